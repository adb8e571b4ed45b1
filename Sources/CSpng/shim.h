// libspng (Debian libspng-dev), the PNG decoder libvips uses; its pkg-config
// file gives no -D flags to restate.
#include <spng.h>
