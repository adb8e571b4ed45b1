// libwebp's decoder (Debian libwebp-dev), the library ImageMagick's own WebP
// coder calls; its pkg-config file gives no -D flags to restate.
#include <webp/decode.h>
