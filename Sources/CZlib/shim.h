// zlib (Debian zlib1g-dev), which libpng inflates with too.
#include <zlib.h>
