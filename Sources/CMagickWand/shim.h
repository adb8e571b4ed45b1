// SwiftPM passes pkg-config's -I flags but drops its -D flags; these two
// must match the build of Debian's libmagickwand-6.q16 or the headers lie.
#define MAGICKCORE_HDRI_ENABLE 0
#define MAGICKCORE_QUANTUM_DEPTH 16
// ImageMagick's config defines _GNU_SOURCE, which changes glibc's structs;
// take the system headers first, as Swift's Glibc module sees them.
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <sys/types.h>
#include <sys/select.h>
#include <time.h>
#include <wand/MagickWand.h>
