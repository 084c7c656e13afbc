#include "dataset.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace aimc::compiler {
namespace {

// gzread reads plain files transparently, so one path handles both encodings.
std::vector<uint8_t> read_all(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw DatasetError(path + ": cannot open (" + std::strerror(errno) + ")");
  std::unique_ptr<gzFile_s, int (*)(gzFile)> guard(f, gzclose);
  std::vector<uint8_t> data;
  uint8_t buf[1 << 16];
  for (;;) {
    int n = gzread(f, buf, sizeof buf);
    if (n < 0) {
      int err = 0;
      const char* msg = gzerror(f, &err);
      throw DatasetError(path + ": read error (" + std::string(msg ? msg : "?") + ")");
    }
    if (n == 0) break;
    data.insert(data.end(), buf, buf + n);
  }
  return data;
}

uint32_t be32(const std::vector<uint8_t>& d, size_t off) {
  return (uint32_t(d[off]) << 24) | (uint32_t(d[off + 1]) << 16) | (uint32_t(d[off + 2]) << 8) | d[off + 3];
}

struct Idx {
  std::vector<uint32_t> dims;
  std::vector<uint8_t> bytes;  // whole file
  size_t data_offset = 0;
};

// IDX: 0x00 0x00 <type 0x08 = unsigned byte> <ndim>, ndim big-endian uint32 sizes, then data.
Idx read_idx(const std::string& path, uint32_t ndim, const char* what) {
  Idx idx;
  idx.bytes = read_all(path);
  const auto& d = idx.bytes;
  const uint32_t magic = 0x00000800u | ndim;
  if (d.size() < 4) throw DatasetError(path + ": file too short for an IDX header (" + std::to_string(d.size()) + " bytes)");
  if (be32(d, 0) != magic) {
    char buf[96];
    std::snprintf(buf, sizeof buf, ": bad IDX magic 0x%08x, expected 0x%08x (%s)", be32(d, 0), magic, what);
    throw DatasetError(path + buf);
  }
  if (d.size() < 4 + 4 * ndim) throw DatasetError(path + ": truncated IDX header");
  size_t count = 1;
  for (uint32_t i = 0; i < ndim; ++i) {
    idx.dims.push_back(be32(d, 4 + 4 * i));
    count *= idx.dims.back();
  }
  idx.data_offset = 4 + 4 * ndim;
  if (d.size() - idx.data_offset != count)
    throw DatasetError(path + ": " + std::to_string(d.size() - idx.data_offset) + " data bytes, header promises " +
                       std::to_string(count));
  return idx;
}

}  // namespace

Dataset load_idx(const std::string& images_path, const std::string& labels_path, long limit) {
  Idx im = read_idx(images_path, 3, "idx3-ubyte images");
  Idx lb = read_idx(labels_path, 1, "idx1-ubyte labels");
  if (im.dims[0] != lb.dims[0])
    throw DatasetError(images_path + " has " + std::to_string(im.dims[0]) + " images but " + labels_path + " has " +
                       std::to_string(lb.dims[0]) + " labels");
  if (im.dims[1] == 0 || im.dims[2] == 0) throw DatasetError(images_path + ": empty image size");
  long n = im.dims[0];
  if (limit >= 0 && limit < n) n = limit;
  const long pixels = long(im.dims[1]) * im.dims[2];
  Dataset ds;
  ds.image_rows = int(im.dims[1]);
  ds.image_cols = int(im.dims[2]);
  ds.images.resize(n, pixels);
  const uint8_t* p = im.bytes.data() + im.data_offset;
  for (long i = 0; i < n; ++i)
    for (long j = 0; j < pixels; ++j) ds.images(i, j) = p[i * pixels + j] / 255.0f;
  ds.labels.resize(n);
  for (long i = 0; i < n; ++i) ds.labels[i] = lb.bytes[lb.data_offset + i];
  return ds;
}

}  // namespace aimc::compiler
