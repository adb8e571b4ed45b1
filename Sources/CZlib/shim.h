// zlib (Debian zlib1g-dev), which libspng inflates with too.
#include <zlib.h>
