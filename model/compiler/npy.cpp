#include "npy.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include "io/atomic_file.h"

namespace aimc::compiler {

namespace {

constexpr char kMagic[] = "\x93NUMPY";

// The value of `key` in the header dict text ("{'descr': '<f4', 'fortran_order': False, ...}").
std::string dict_value(const std::string& header, const std::string& key, const std::string& path) {
  const std::string k = "'" + key + "'";
  size_t p = header.find(k);
  if (p == std::string::npos) throw NpyError(path + ": .npy header has no '" + key + "'");
  p = header.find(':', p + k.size());
  if (p == std::string::npos) throw NpyError(path + ": malformed .npy header");
  ++p;
  while (p < header.size() && header[p] == ' ') ++p;
  size_t e = p;
  if (p < header.size() && header[p] == '(') {
    e = header.find(')', p);
    if (e == std::string::npos) throw NpyError(path + ": malformed shape in the .npy header");
    return header.substr(p, e - p + 1);
  }
  if (p < header.size() && header[p] == '\'') {
    e = header.find('\'', p + 1);
    if (e == std::string::npos) throw NpyError(path + ": malformed .npy header");
    return header.substr(p + 1, e - p - 1);
  }
  while (e < header.size() && header[e] != ',' && header[e] != '}') ++e;
  std::string v = header.substr(p, e - p);
  while (!v.empty() && v.back() == ' ') v.pop_back();
  return v;
}

std::vector<int64_t> parse_shape(const std::string& text, const std::string& path) {
  std::vector<int64_t> shape;
  std::string inner = text.substr(1, text.size() - 2);
  std::stringstream ss(inner);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t b = item.find_first_not_of(' ');
    if (b == std::string::npos) continue;  // "(3,)"
    item = item.substr(b);
    char* end = nullptr;
    const long long v = std::strtoll(item.c_str(), &end, 10);
    if (end == item.c_str() || v < 0) throw NpyError(path + ": bad shape " + text + " in the .npy header");
    shape.push_back(v);
  }
  return shape;
}

}  // namespace

NpyArray read_npy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw NpyError(path + ": cannot open");
  char magic[6];
  if (!f.read(magic, 6) || std::memcmp(magic, kMagic, 6) != 0)
    throw NpyError(path + ": not a NumPy .npy file (no \\x93NUMPY signature)");
  unsigned char ver[2];
  f.read(reinterpret_cast<char*>(ver), 2);
  uint32_t hlen = 0;
  if (ver[0] == 1) {
    unsigned char b[2];
    f.read(reinterpret_cast<char*>(b), 2);
    hlen = b[0] | (b[1] << 8);
  } else if (ver[0] == 2 || ver[0] == 3) {
    unsigned char b[4];
    f.read(reinterpret_cast<char*>(b), 4);
    hlen = b[0] | (b[1] << 8) | (b[2] << 16) | (uint32_t(b[3]) << 24);
  } else {
    throw NpyError(path + ": .npy format version " + std::to_string(ver[0]) + " is not supported");
  }
  if (!f || hlen > (1u << 20)) throw NpyError(path + ": truncated or malformed .npy header");
  std::string header(hlen, '\0');
  if (!f.read(header.data(), hlen)) throw NpyError(path + ": truncated .npy header");
  const std::string descr = dict_value(header, "descr", path);
  if (dict_value(header, "fortran_order", path) != "False")
    throw NpyError(path + ": Fortran-order arrays are not supported (save with np.ascontiguousarray)");
  NpyArray a;
  a.shape = parse_shape(dict_value(header, "shape", path), path);
  int64_t n = 1;
  for (int64_t d : a.shape) {
    if (d > 0 && n > (int64_t(1) << 40) / d) throw NpyError(path + ": array too large");
    n *= d;
  }
  size_t item = 0;
  if (descr == "<f4" || descr == "=f4") item = 4;
  else if (descr == "<f8" || descr == "=f8") item = 8;
  else if (descr == "|u1" || descr == "<u1") item = 1;
  else
    throw NpyError(path + ": dtype '" + descr +
                   "' is not supported (use float32, float64 or uint8, little-endian)");
  std::vector<char> raw(static_cast<size_t>(n) * item);
  if (!f.read(raw.data(), static_cast<std::streamsize>(raw.size())))
    throw NpyError(path + ": truncated: the header promises " + std::to_string(n) + " values");
  a.data.resize(static_cast<size_t>(n));
  for (size_t i = 0; i < a.data.size(); ++i) {
    if (item == 4) {
      float v;
      std::memcpy(&v, raw.data() + 4 * i, 4);
      a.data[i] = v;
    } else if (item == 8) {
      double v;
      std::memcpy(&v, raw.data() + 8 * i, 8);
      a.data[i] = static_cast<float>(v);
    } else {
      a.data[i] = static_cast<unsigned char>(raw[i]);
    }
  }
  return a;
}

Eigen::MatrixXf as_rows(const NpyArray& a, const std::string& path) {
  if (a.shape.size() < 2)
    throw NpyError(path + ": expected an array of N items (N x features, or N x C x H x W), got " +
                   std::to_string(a.shape.size()) + " dimension(s)");
  const int64_t n = a.shape[0];
  int64_t per = 1;
  for (size_t d = 1; d < a.shape.size(); ++d) per *= a.shape[d];
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> m(n, per);
  if (!a.data.empty()) std::memcpy(m.data(), a.data.data(), a.data.size() * sizeof(float));
  return m;
}

void write_npy(const std::string& path, const Eigen::MatrixXf& rows) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                       std::to_string(rows.rows()) + ", " + std::to_string(rows.cols()) + "), }";
  // Magic (6) + version (2) + length (2) + header + '\n', padded to a multiple of 64.
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  io::AtomicFile file(path);
  std::ostream& f = file.stream();
  f.write(kMagic, 6);
  const unsigned char ver[2] = {1, 0};
  f.write(reinterpret_cast<const char*>(ver), 2);
  const uint16_t hlen = static_cast<uint16_t>(header.size());
  const unsigned char hl[2] = {static_cast<unsigned char>(hlen & 0xFF), static_cast<unsigned char>(hlen >> 8)};
  f.write(reinterpret_cast<const char*>(hl), 2);
  f.write(header.data(), static_cast<std::streamsize>(header.size()));
  const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> m = rows;
  f.write(reinterpret_cast<const char*>(m.data()), static_cast<std::streamsize>(m.size() * sizeof(float)));
  try {
    file.commit();
  } catch (const io::OutputError& e) {
    throw NpyError(e.what());
  }
}

}  // namespace aimc::compiler
