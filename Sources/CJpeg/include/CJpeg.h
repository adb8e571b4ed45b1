// libjpeg-turbo's decoder behind calls that return instead of jumping: libjpeg
// reports an error by calling a function that must not return, which Swift
// cannot provide, so jpeg.c catches it with setjmp and hands back the message.
// Every warning (corrupt data, a truncated file) is an error here, as
// ImageMagick's reader, which thumbnail used before, makes it one.
#include <stddef.h>
#include <stdint.h>

typedef struct thumbnail_jpeg thumbnail_jpeg;

/// libjpeg's message, when a call below fails.
enum { THUMBNAIL_JPEG_MESSAGE = 200 };

/// Reads the header of the JPEG in `data` (which must outlive the handle)
/// and its size; NULL, with `message` set, when it cannot.
thumbnail_jpeg *thumbnail_jpeg_open(const uint8_t *data, size_t size, int *width, int *height, char *message);
/// 1 for gray, 3 for YCbCr or RGB, 0 for what is decoded elsewhere (CMYK, YCCK).
int thumbnail_jpeg_channels(const thumbnail_jpeg *jpeg);
/// Starts decoding at `eighths`/8 of the size, into `channels` samples a
/// pixel (1 or 3), block smoothing off; the scaled size in `width` and `height`.
int thumbnail_jpeg_start(thumbnail_jpeg *jpeg, int eighths, int *width, int *height, char *message);
/// Decodes up to `count` rows into `rows` (`stride` bytes apart); how many, or -1.
int thumbnail_jpeg_read(thumbnail_jpeg *jpeg, uint8_t *rows, size_t stride, int count, char *message);
/// The embedded ICC profile (malloc'd: free it), or NULL, also when its pieces do not fit together.
uint8_t *thumbnail_jpeg_icc_profile(thumbnail_jpeg *jpeg, unsigned *length);
void thumbnail_jpeg_close(thumbnail_jpeg *jpeg);
