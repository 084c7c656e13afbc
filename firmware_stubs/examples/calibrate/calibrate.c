/* calibrate: trims out the static ADC offset of every used column of every programmed tile.
 *
 *   calibrate IMAGE [--verbose]
 *
 * Loads the deployment image (so the tiles hold weights and know their used columns), then for
 * each tile whose TILE_STATUS says PROGRAMMED: aimc_calibrate_tile measures each used column's
 * ADC output with every input at zero (TILE_TEST; with zero input the ideal code is 0, so what
 * comes out is the column's offset), writes the trim that cancels it (TILE_TRIM), and measures
 * again. Prints per tile the mean and max |offset| in LSB before and after; --verbose also lists
 * every column's offset before.
 *
 * Exit code 0 when every tile with an offset is better after than before (max |offset| after is
 * smaller, mean not larger); 1 otherwise or on a driver or chip error; 2 on bad arguments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aimc_driver.h"
#include "aimc_fw.h"
#include "aimc_regs.h"

static int read_file(const char* path, unsigned char** data, size_t* size) {
  FILE* f = fopen(path, "rb");
  long n;
  *data = NULL;
  *size = 0;
  if (!f) {
    fprintf(stderr, "calibrate: cannot open %s\n", path);
    return -1;
  }
  if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
      !(*data = (unsigned char*)malloc(n > 0 ? (size_t)n : 1u)) ||
      fread(*data, 1, (size_t)n, f) != (size_t)n) {
    fprintf(stderr, "calibrate: cannot read %s\n", path);
    free(*data);
    *data = NULL;
    fclose(f);
    return -1;
  }
  *size = (size_t)n;
  fclose(f);
  return 0;
}

typedef struct {
  double mean, max;
} stats_t;

static stats_t abs_stats(const int32_t* v, uint32_t n) {
  stats_t s = {0.0, 0.0};
  uint32_t i;
  for (i = 0; i < n; ++i) {
    const double a = v[i] < 0 ? -(double)v[i] : (double)v[i];
    s.mean += a;
    if (a > s.max) s.max = a;
  }
  if (n) s.mean /= n;
  return s;
}

int aimc_fw_main(aimc_hal_t hal, int argc, char** argv) {
  const char* image_path = NULL;
  int verbose = 0, status = 1, rc, i;
  unsigned char* image = NULL;
  size_t image_size = 0;
  int32_t *before = NULL, *after = NULL;
  uint32_t t, tiles_done = 0, tiles_worse = 0;
  stats_t all_before = {0.0, 0.0}, all_after = {0.0, 0.0};
  uint64_t all_cols = 0;
  aimc_dev_t dev;

  for (i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--") == 0) continue;
    if (strcmp(argv[i], "--verbose") == 0) verbose = 1;
    else if (argv[i][0] != '-' && !image_path) image_path = argv[i];
    else {
      fprintf(stderr, "calibrate: bad argument '%s'\nusage: calibrate IMAGE [--verbose]\n",
              argv[i]);
      return 2;
    }
  }
  if (!image_path) {
    fprintf(stderr, "usage: calibrate IMAGE [--verbose]\n");
    return 2;
  }
  if (read_file(image_path, &image, &image_size) != 0) return 2;

  memset(&dev, 0, sizeof dev);
  if ((rc = aimc_init(&dev, hal)) != AIMC_OK) {
    fprintf(stderr, "calibrate: aimc_init: %s\n", aimc_strerror(rc));
    goto done;
  }
  if ((rc = aimc_load_image(&dev, image, image_size)) != AIMC_OK) {
    fprintf(stderr, "calibrate: aimc_load_image(%s): %s (chip error %u)\n", image_path,
            aimc_strerror(rc), (unsigned)dev.device_error);
    status = rc == AIMC_E_IMAGE ? 2 : 1;
    goto done;
  }
  before = (int32_t*)calloc(dev.caps.array_cols ? dev.caps.array_cols : 1u, sizeof *before);
  after = (int32_t*)calloc(dev.caps.array_cols ? dev.caps.array_cols : 1u, sizeof *after);
  if (!before || !after) {
    fprintf(stderr, "calibrate: out of memory\n");
    goto done;
  }

  printf("ADC offset calibration (%u-bit ADC; |offset| in LSB, zero input)\n",
         (unsigned)dev.caps.adc_bits);
  printf("  tile  cols   before: mean    max    after: mean    max\n");
  for (t = 0; t < dev.caps.tiles; ++t) {
    uint32_t st = 0, cols = 0, c;
    stats_t b, a;
    if (hal.ops->read32(hal.ctx, AIMC_TILE_REG(t, AIMC_TREG_STATUS), &st) != AIMC_HAL_OK ||
        hal.ops->read32(hal.ctx, AIMC_TILE_REG(t, AIMC_TREG_COLS_USED), &cols) != AIMC_HAL_OK) {
      fprintf(stderr, "calibrate: tile %u: register read failed\n", (unsigned)t);
      goto done;
    }
    if (!(st & AIMC_TILE_STATUS_PROGRAMMED_MASK) || cols == 0) continue;
    if ((rc = aimc_calibrate_tile(&dev, t, cols, before, after)) != AIMC_OK) {
      fprintf(stderr, "calibrate: tile %u: %s (chip error %u at 0x%X)\n", (unsigned)t,
              aimc_strerror(rc), (unsigned)dev.device_error, (unsigned)dev.device_error_addr);
      goto done;
    }
    b = abs_stats(before, cols);
    a = abs_stats(after, cols);
    printf("  %4u  %4u          %6.3f %6.0f          %6.3f %6.0f%s\n", (unsigned)t,
           (unsigned)cols, b.mean, b.max, a.mean, a.max,
           b.max > 0.0 && !(a.max < b.max && a.mean <= b.mean) ? "  NOT BETTER" : "");
    if (b.max > 0.0 && !(a.max < b.max && a.mean <= b.mean)) ++tiles_worse;
    if (verbose) {
      printf("        offsets before:");
      for (c = 0; c < cols; ++c) printf("%s%d", c % 20 == 0 ? "\n         " : " ", (int)before[c]);
      printf("\n");
    }
    all_before.mean += b.mean * cols;
    all_after.mean += a.mean * cols;
    if (b.max > all_before.max) all_before.max = b.max;
    if (a.max > all_after.max) all_after.max = a.max;
    all_cols += cols;
    ++tiles_done;
  }
  if (tiles_done == 0) {
    fprintf(stderr, "calibrate: no programmed tile to calibrate\n");
    goto done;
  }
  all_before.mean /= (double)all_cols;
  all_after.mean /= (double)all_cols;
  printf("  all   %4llu          %6.3f %6.0f          %6.3f %6.0f\n", (unsigned long long)all_cols,
         all_before.mean, all_before.max, all_after.mean, all_after.max);
  printf("max |offset| before %.0f LSB, after %.0f LSB\n", all_before.max, all_after.max);
  if (tiles_worse) {
    printf("calibrate: FAILED: %u tile(s) not better after trimming\n", (unsigned)tiles_worse);
    goto done;
  }
  printf(all_before.max > 0.0 ? "calibrate: %u tile(s) trimmed\n"
                              : "calibrate: %u tile(s) checked, no offset to trim\n",
         (unsigned)tiles_done);
  status = 0;

done:
  aimc_release(&dev);
  free(before);
  free(after);
  free(image);
  return status;
}
