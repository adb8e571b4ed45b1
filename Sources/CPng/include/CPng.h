// Debian's libpng (libpng-dev), the PNG decoder libvips uses, with its SSE
// unfiltering, behind a few functions of tiny state: libpng reports errors
// by longjmp, which must never cross a Swift frame, so every call into it
// is made here (png.c), under its own setjmp, and a failure comes back as a
// status with libpng's message.
#include <stddef.h>
#include <stdint.h>

typedef struct thumbnail_png thumbnail_png;

/// Fills `buffer` with exactly `count` bytes of the PNG: 0, or nonzero when
/// the source ended or failed first.
typedef int (*thumbnail_png_source)(void *user, unsigned char *buffer, size_t count);

/// What a PNG decodes to: 8 or 16 bits a sample in the host's byte order;
/// grey stays grey, palettes become RGB, tRNS becomes an alpha channel.
typedef struct {
    uint32_t width, height;
    /// 1 grey, 2 grey and alpha, 3 RGB, 4 RGBA.
    int channels;
    int bits_per_sample;
    int interlaced;
    /// The bytes of a row of the whole image.
    size_t row_bytes;
    /// The iCCP chunk's profile, owned by libpng; NULL when none.
    const unsigned char *icc_profile;
    uint32_t icc_profile_length;
} thumbnail_png_info;

/// A decoder reading from `source`, neither CRCs nor Adler-32 checked, at
/// most 65535 pixels a side, an ancillary chunk at most `chunk_limit` bytes
/// decompressed; NULL when memory runs out.
thumbnail_png *thumbnail_png_create(thumbnail_png_source source, void *user, size_t chunk_limit);
void thumbnail_png_destroy(thumbnail_png *png);

/// Reads the chunks up to the image data: 0, or -1 (see thumbnail_png_error).
int thumbnail_png_read_info(thumbnail_png *png, thumbnail_png_info *info);

/// Decodes the next row into `row` (`info.row_bytes` long): 1 with its row
/// in the image and its Adam7 pass, 0..6 (its pixels packed at the front,
/// the pass's columns alone), or 6 when not interlaced; 0 after the last
/// row; -1 when it cannot.
int thumbnail_png_read_row(thumbnail_png *png, unsigned char *row, uint32_t *y, int *pass);

/// Why the last call failed: libpng's message.
const char *thumbnail_png_error(const thumbnail_png *png);
/// Whether it failed for want of memory.
int thumbnail_png_out_of_memory(const thumbnail_png *png);
