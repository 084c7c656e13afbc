/* infer: loads a deployment image and classifies input vectors through the command queue.
 *
 *   infer IMAGE (--images FILE | --codes FILE) [--labels FILE] [--limit N] [--entries N]
 *         [--attach] [--quiet]
 *
 *   IMAGE          deployment image written by `aimc compile -o IMAGE` (docs/deployment-image.md)
 *   --images FILE  uncompressed IDX3 ubyte file (e.g. t10k-images-idx3-ubyte after gunzip): each
 *                  image is one vector; pixel p becomes the float p / 255 (the bundled model's
 *                  preprocessing) and aimc_quantize_inputs turns it into DAC codes with the
 *                  image's input scale. rows * cols must equal the model's input features.
 *   --codes FILE   raw DAC codes instead: N vectors of in_features bytes each, nothing else
 *                  (file size = N * in_features); each byte is one input's code, 0 .. 2^dac_bits-1.
 *   --labels FILE  the true classes: uncompressed IDX1 ubyte (t10k-labels-idx1-ubyte) or raw
 *                  bytes, one per vector. With labels, the accuracy is printed.
 *   --limit N      only the first N vectors.
 *   --entries N    command ring entries (default 16).
 *   --attach       the tiles already hold IMAGE's weights (a chip restored from a checkpoint,
 *                  `aimc fw run --restore`): aimc_attach_image instead of aimc_load_image, so
 *                  nothing is programmed.
 *   --quiet        do not list every prediction.
 *
 * Prints the predicted class of every vector (argmax of the outputs), the accuracy, and the
 * chip's performance counters over the inference (cycles, MVMs, conversions, bus bytes, energy).
 * Exit code 0 on success, 1 on a driver or chip error, 2 on bad arguments or files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aimc_driver.h"
#include "aimc_fw.h"
#include "aimc_regs.h"

typedef struct {
  unsigned char* data;
  size_t size;
} blob_t;

static int read_file(const char* path, blob_t* out) {
  FILE* f = fopen(path, "rb");
  long size;
  out->data = NULL;
  out->size = 0;
  if (!f) {
    fprintf(stderr, "infer: cannot open %s\n", path);
    return -1;
  }
  if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fprintf(stderr, "infer: cannot size %s\n", path);
    fclose(f);
    return -1;
  }
  out->data = (unsigned char*)malloc(size > 0 ? (size_t)size : 1u);
  if (!out->data || fread(out->data, 1, (size_t)size, f) != (size_t)size) {
    fprintf(stderr, "infer: cannot read %s\n", path);
    free(out->data);
    out->data = NULL;
    fclose(f);
    return -1;
  }
  out->size = (size_t)size;
  fclose(f);
  return 0;
}

static uint32_t be32(const unsigned char* p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* An IDX ubyte file (magic 00 00 08 ndims, dims big-endian, then the bytes). Returns the number
 * of items (first dim) and the bytes per item, or -1 if `b` is not one with `ndims` dims. */
static int idx_parse(const blob_t* b, unsigned ndims, uint32_t* items, uint32_t* item_bytes,
                     const unsigned char** payload) {
  uint64_t per = 1, total;
  unsigned d;
  if (b->size < 4 + 4u * ndims || b->data[0] != 0 || b->data[1] != 0 || b->data[2] != 0x08 ||
      b->data[3] != ndims)
    return -1;
  for (d = 1; d < ndims; ++d) per *= be32(b->data + 4 + 4 * d);
  *items = be32(b->data + 4);
  total = (uint64_t)*items * per;
  if (per == 0 || per > 0xFFFFFFFFu || b->size - (4 + 4u * ndims) < total) return -1;
  *item_bytes = (uint32_t)per;
  *payload = b->data + 4 + 4 * ndims;
  return 0;
}

static void usage(void) {
  fprintf(stderr,
          "usage: infer IMAGE (--images IDX3 | --codes RAW) [--labels FILE] [--limit N] "
          "[--entries N] [--attach] [--quiet]\n"
          "  --attach  the tiles already hold the image's weights (a chip restored from a\n"
          "            checkpoint: aimc fw run --restore): attach the image, program nothing\n");
}

int aimc_fw_main(aimc_hal_t hal, int argc, char** argv) {
  const char *image_path = NULL, *images_path = NULL, *codes_path = NULL, *labels_path = NULL;
  long limit = -1, entries = 16;
  int quiet = 0, attach = 0, rc, i, status = 1;
  blob_t image = {0}, inputs = {0}, labels_blob = {0};
  const unsigned char* labels = NULL;
  uint8_t* codes = NULL;
  float* x = NULL;
  int32_t* outputs = NULL;
  uint32_t n = 0, v, correct = 0;
  aimc_dev_t dev;
  aimc_perf_t perf;

  for (i = 1; i < argc; ++i) {
    const char* a = argv[i];
    const int has_value = i + 1 < argc;
    if (strcmp(a, "--") == 0) continue;
    if (strcmp(a, "--images") == 0 && has_value) images_path = argv[++i];
    else if (strcmp(a, "--codes") == 0 && has_value) codes_path = argv[++i];
    else if (strcmp(a, "--labels") == 0 && has_value) labels_path = argv[++i];
    else if (strcmp(a, "--limit") == 0 && has_value) limit = strtol(argv[++i], NULL, 10);
    else if (strcmp(a, "--entries") == 0 && has_value) entries = strtol(argv[++i], NULL, 10);
    else if (strcmp(a, "--quiet") == 0) quiet = 1;
    else if (strcmp(a, "--attach") == 0) attach = 1;
    else if (a[0] != '-' && !image_path) image_path = a;
    else {
      fprintf(stderr, "infer: bad argument '%s'\n", a);
      usage();
      return 2;
    }
  }
  if (!image_path || (!images_path == !codes_path) || limit == 0 || entries < 2 ||
      entries > 65536) {
    fprintf(stderr, "infer: need one IMAGE, exactly one of --images/--codes, --limit >= 1, "
                    "--entries 2..65536\n");
    usage();
    return 2;
  }

  memset(&dev, 0, sizeof dev);
  if (read_file(image_path, &image) != 0) return 2;
  if ((rc = aimc_init(&dev, hal)) != AIMC_OK) {
    fprintf(stderr, "infer: aimc_init: %s\n", aimc_strerror(rc));
    goto done;
  }
  rc = attach ? aimc_attach_image(&dev, image.data, image.size)
              : aimc_load_image(&dev, image.data, image.size);
  if (rc != AIMC_OK) {
    fprintf(stderr, "infer: %s(%s): %s (chip error %u at 0x%X)\n",
            attach ? "aimc_attach_image" : "aimc_load_image", image_path, aimc_strerror(rc),
            (unsigned)dev.device_error, (unsigned)dev.device_error_addr);
    status = rc == AIMC_E_IMAGE ? 2 : 1;
    goto done;
  }
  printf("image            %s: %u inputs -> %u outputs, max batch %u\n", image_path,
         (unsigned)dev.in_features, (unsigned)dev.out_features, (unsigned)dev.max_batch);
  {
    /* What program-and-verify did, and the die temperature (register map 1.1). */
    int32_t mc = 0;
    printf("programmed       %llu cells, %.2f pulses/cell, %llu outside tolerance (yield %.3f %%)\n",
           (unsigned long long)dev.prog_cells,
           dev.prog_cells ? (double)dev.prog_pulses / (double)dev.prog_cells : 0.0,
           (unsigned long long)dev.prog_unconverged,
           dev.prog_cells ? 100.0 * (1.0 - (double)dev.prog_unconverged / (double)dev.prog_cells)
                          : 100.0);
    if (aimc_read_temperature(&dev, &mc) == AIMC_OK)
      printf("die temperature  %.3f C\n", mc / 1000.0);
  }

  /* ---- Inputs -> DAC codes ---- */
  status = 2;
  if (read_file(images_path ? images_path : codes_path, &inputs) != 0) goto done;
  if (images_path) {
    uint32_t items = 0, per = 0;
    const unsigned char* px = NULL;
    size_t k, count;
    if (idx_parse(&inputs, 3, &items, &per, &px) != 0) {
      fprintf(stderr, "infer: %s is not an uncompressed IDX3 ubyte file (gunzip it first)\n",
              images_path);
      goto done;
    }
    if (per != dev.in_features) {
      fprintf(stderr, "infer: %s has %u pixels per image; the model takes %u inputs\n",
              images_path, (unsigned)per, (unsigned)dev.in_features);
      goto done;
    }
    n = items;
    if (limit > 0 && (unsigned long)limit < n) n = (uint32_t)limit;
    count = (size_t)n * dev.in_features;
    x = (float*)malloc(count * sizeof *x);
    codes = (uint8_t*)malloc(count ? count : 1u);
    if (!x || !codes) {
      fprintf(stderr, "infer: out of memory\n");
      goto done;
    }
    for (k = 0; k < count; ++k) x[k] = (float)px[k] / 255.0f;
    if ((rc = aimc_quantize_inputs(&dev, x, count, codes)) != AIMC_OK) {
      fprintf(stderr, "infer: aimc_quantize_inputs: %s\n", aimc_strerror(rc));
      goto done;
    }
  } else {
    if (inputs.size == 0 || inputs.size % dev.in_features != 0) {
      fprintf(stderr, "infer: %s: %lu bytes is not a whole number of %u-byte vectors\n",
              codes_path, (unsigned long)inputs.size, (unsigned)dev.in_features);
      goto done;
    }
    n = (uint32_t)(inputs.size / dev.in_features);
    if (limit > 0 && (unsigned long)limit < n) n = (uint32_t)limit;
    codes = inputs.data; /* already DAC codes */
    for (v = 0; v < n * dev.in_features; ++v) {
      if (codes[v] >> dev.dac_bits) {
        fprintf(stderr, "infer: %s: byte %u is %u, above the %u-bit DAC's largest code\n",
                codes_path, (unsigned)v, (unsigned)codes[v], (unsigned)dev.dac_bits);
        codes = NULL;
        goto done;
      }
    }
  }
  if (n == 0) {
    fprintf(stderr, "infer: no input vectors\n");
    goto done;
  }
  if (labels_path) {
    uint32_t items = 0, per = 0;
    if (read_file(labels_path, &labels_blob) != 0) goto done;
    if (idx_parse(&labels_blob, 1, &items, &per, &labels) != 0) {
      labels = labels_blob.data; /* raw: one byte per vector */
      items = (uint32_t)labels_blob.size;
    }
    if (items < n) {
      fprintf(stderr, "infer: %s has %u labels for %u vectors\n", labels_path, (unsigned)items,
              (unsigned)n);
      goto done;
    }
  }

  /* ---- Inference through the command queue ---- */
  status = 1;
  outputs = (int32_t*)malloc((size_t)n * dev.out_features * sizeof *outputs);
  if (!outputs) {
    fprintf(stderr, "infer: out of memory\n");
    goto done;
  }
  if ((rc = aimc_cq_init(&dev, (uint32_t)entries)) != AIMC_OK ||
      (rc = aimc_reset_perf(&dev)) != AIMC_OK ||
      (rc = aimc_infer_queued(&dev, codes, n, outputs)) != AIMC_OK ||
      (rc = aimc_read_perf(&dev, &perf)) != AIMC_OK) {
    fprintf(stderr, "infer: inference failed: %s (chip error %u at 0x%X)\n", aimc_strerror(rc),
            (unsigned)dev.device_error, (unsigned)dev.device_error_addr);
    goto done;
  }

  if (!quiet) printf("predictions (%u vectors):\n", (unsigned)n);
  for (v = 0; v < n; ++v) {
    const int32_t* o = outputs + (size_t)v * dev.out_features;
    uint32_t j, best = 0;
    for (j = 1; j < dev.out_features; ++j)
      if (o[j] > o[best]) best = j;
    if (labels && best == labels[v]) ++correct;
    if (!quiet) printf("%s%u", v % 25 == 0 ? "  " : " ", (unsigned)best);
    if (!quiet && (v % 25 == 24 || v + 1 == n)) printf("\n");
  }
  printf("vectors          %u in %llu commands\n", (unsigned)n, (unsigned long long)dev.commands);
  if (labels)
    printf("accuracy         %.2f %% (%u of %u)\n", 100.0 * correct / n, (unsigned)correct,
           (unsigned)n);
  printf("perf counters    (inference only)\n");
  printf("  cycles         %llu\n", (unsigned long long)perf.cycles);
  printf("  MVMs           %u\n", (unsigned)perf.mvms);
  printf("  conversions    %u\n", (unsigned)perf.conversions);
  printf("  bus bytes      %u\n", (unsigned)perf.bus_bytes);
  printf("  energy         %u nJ (dynamic)\n", (unsigned)perf.energy_nj);
  printf("  last command   %llu ns doorbell to first output\n",
         (unsigned long long)dev.last_latency_ns);
  status = 0;

done:
  aimc_release(&dev);
  if (codes != inputs.data) free(codes);
  free(x);
  free(outputs);
  free(image.data);
  free(inputs.data);
  free(labels_blob.data);
  return status;
}
