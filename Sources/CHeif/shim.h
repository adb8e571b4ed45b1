// libheif (Debian libheif-dev), the library ImageMagick's HEIC coder calls;
// on Debian it encodes AV1 through libaom. Its pkg-config file gives no -D
// flags to restate.
#include <libheif/heif.h>
