/* The floor for thumbnail's design: the same work done with MagickWand from C
 * and nothing else. Reads IN whole, decodes it with its coder pinned (and the
 * jpeg:size hint for JPEG), turns it upright, resizes it the same way (a box
 * filter to twice the size from four times or more, then Lanczos) to exactly
 * WIDTHxHEIGHT, strips it and writes it with OUTPUT's coder.
 *
 * usage: wand_floor SOURCE OUTPUT IN OUT WIDTH HEIGHT (coders: JPEG, PNG, WEBP, GIF, TIFF, HEIC)
 * The bench passes the output size that `thumbnail --explain` plans. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wand/MagickWand.h>

static int fail(MagickWand *wand, const char *what) {
  ExceptionType severity;
  char *message = MagickGetException(wand, &severity);
  fprintf(stderr, "wand_floor: %s: %s\n", what, message);
  MagickRelinquishMemory(message);
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: wand_floor SOURCE OUTPUT IN OUT WIDTH HEIGHT\n");
    return 64;
  }
  const char *coder = argv[1], *output = argv[2], *in = argv[3], *out = argv[4];
  size_t width = strtoul(argv[5], NULL, 10), height = strtoul(argv[6], NULL, 10);

  FILE *file = fopen(in, "rb");
  if (file == NULL) { perror(in); return 66; }
  fseek(file, 0, SEEK_END);
  long length = ftell(file);
  rewind(file);
  unsigned char *bytes = malloc(length);
  if (bytes == NULL || fread(bytes, 1, length, file) != (size_t) length) { perror(in); return 74; }
  fclose(file);

  MagickWandGenesis();
  MagickWand *wand = NewMagickWand();
  char name[64];
  snprintf(name, sizeof name, "%s:source[0]", coder);
  MagickSetFilename(wand, name);
  if (strcmp(coder, "JPEG") == 0) {
    char hint[64];
    snprintf(hint, sizeof hint, "%zux%zu", width, height);
    MagickSetOption(wand, "jpeg:size", hint);
  }
  if (MagickReadImageBlob(wand, bytes, length) == MagickFalse) return fail(wand, "read");
  if (MagickAutoOrientImage(wand) == MagickFalse) return fail(wand, "orient");
  if (MagickGetImageWidth(wand) >= 4 * width && MagickGetImageHeight(wand) >= 4 * height &&
      MagickResizeImage(wand, 2 * width, 2 * height, BoxFilter, 1.0) == MagickFalse) return fail(wand, "resize");
  if (MagickResizeImage(wand, width, height, LanczosFilter, 1.0) == MagickFalse) return fail(wand, "resize");
  if (MagickStripImage(wand) == MagickFalse) return fail(wand, "strip");
  if (strcmp(output, "PNG") != 0) MagickSetImageCompressionQuality(wand, 80);
  MagickSetImageFormat(wand, output);
  size_t size = 0;
  unsigned char *blob = MagickGetImageBlob(wand, &size);
  if (blob == NULL) return fail(wand, "encode");
  file = fopen(out, "wb");
  if (file == NULL || fwrite(blob, 1, size, file) != size || fclose(file) != 0) { perror(out); return 73; }
  MagickRelinquishMemory(blob);
  DestroyMagickWand(wand);
  MagickWandTerminus();
  free(bytes);
  return 0;
}
