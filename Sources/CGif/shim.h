// giflib (Debian libgif-dev), the GIF decoder libvips uses; it has no
// pkg-config file, and its header needs no flags.
#include <gif_lib.h>
