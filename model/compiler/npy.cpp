#include "npy.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "io/atomic_file.h"

namespace aimc::compiler {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
// Header text beyond this is refused before it is read (numpy itself writes a few hundred bytes).
constexpr uint32_t kMaxHeaderBytes = 1u << 20;
// Values in one array: 2^40 (4 TiB of float32). With the file's size checked against the header
// before anything is allocated, this bounds the arithmetic on the shape, not the memory.
constexpr int64_t kMaxValues = int64_t(1) << 40;

[[noreturn]] void bad(const std::string& path, const std::string& what) { throw NpyError(path + ": " + what); }

// The value of `key` in the header dict text ("{'descr': '<f4', 'fortran_order': False, ...}").
std::string dict_value(const std::string& header, const std::string& key, const std::string& path) {
  const std::string k = "'" + key + "'";
  size_t p = header.find(k);
  if (p == std::string::npos) bad(path, ".npy header has no '" + key + "'");
  p = header.find(':', p + k.size());
  if (p == std::string::npos) bad(path, "malformed .npy header (no ':' after '" + key + "')");
  ++p;
  while (p < header.size() && header[p] == ' ') ++p;
  size_t e = p;
  if (p < header.size() && header[p] == '(') {
    e = header.find(')', p);
    if (e == std::string::npos) bad(path, "malformed shape in the .npy header (no closing ')')");
    return header.substr(p, e - p + 1);
  }
  if (p < header.size() && header[p] == '\'') {
    e = header.find('\'', p + 1);
    if (e == std::string::npos) bad(path, "malformed .npy header (unterminated '" + key + "')");
    return header.substr(p + 1, e - p - 1);
  }
  while (e < header.size() && header[e] != ',' && header[e] != '}') ++e;
  std::string v = header.substr(p, e - p);
  while (!v.empty() && v.back() == ' ') v.pop_back();
  return v;
}

// "(3, 4)", "(3,)", "()" as numpy writes them: decimal entries, each >= 0, separated by commas, a
// trailing comma allowed. Anything else (an empty entry, a sign, a letter) is refused by name.
std::vector<int64_t> parse_shape(const std::string& text, const std::string& path) {
  const auto refuse = [&](const std::string& why) {
    bad(path, "bad shape " + (text.empty() ? std::string("''") : text) + " in the .npy header: " + why);
  };
  if (text.size() < 2 || text.front() != '(' || text.back() != ')') refuse("expected a tuple such as (3, 4)");
  std::vector<std::string> items;
  std::string item;
  for (size_t i = 1; i + 1 < text.size(); ++i) {
    if (text[i] == ',') {
      items.push_back(item);
      item.clear();
    } else {
      item += text[i];
    }
  }
  items.push_back(item);
  const auto blank = [](const std::string& s) { return s.find_first_not_of(' ') == std::string::npos; };
  if (items.size() == 1 && blank(items[0])) return {};             // "()": a scalar
  if (items.size() > 1 && blank(items.back())) items.pop_back();  // "(3,)", "(3, 4,)"
  std::vector<int64_t> shape;
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string& s = items[i];
    const size_t b = s.find_first_not_of(' ');
    const size_t e = s.find_last_not_of(' ');
    const std::string which = "entry " + std::to_string(i + 1);
    if (b == std::string::npos) refuse(which + " is empty");
    const std::string digits = s.substr(b, e - b + 1);
    if (digits.find_first_not_of("0123456789") != std::string::npos)
      refuse(which + " '" + digits + "' is not a non-negative integer");
    int64_t v = 0;
    for (char c : digits)
      if (__builtin_mul_overflow(v, int64_t(10), &v) || __builtin_add_overflow(v, int64_t(c - '0'), &v))
        refuse(which + " '" + digits + "' does not fit in 64 bits");
    shape.push_back(v);
  }
  return shape;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

}  // namespace

NpyArray read_npy(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) bad(path, "cannot open: it is a folder, not a .npy file");
  std::ifstream f(path, std::ios::binary);
  if (!f) bad(path, "cannot open");
  // The file's size, to hold the header's promises against; -1 for a stream that cannot seek (a
  // pipe), whose data is then read as it comes, never more than the header promises.
  std::streamoff file_bytes = -1;
  if (f.seekg(0, std::ios::end)) {
    file_bytes = f.tellg();
    f.seekg(0, std::ios::beg);
  }
  f.clear();
  char magic[6];
  if (!f.read(magic, 6) || std::memcmp(magic, kMagic, 6) != 0)
    bad(path, "not a NumPy .npy file (no \\x93NUMPY signature)");
  unsigned char ver[2];
  if (!f.read(reinterpret_cast<char*>(ver), 2)) bad(path, "truncated .npy file (no format version)");
  uint32_t hlen = 0;
  if (ver[0] == 1) {
    unsigned char b[2];
    if (!f.read(reinterpret_cast<char*>(b), 2)) bad(path, "truncated .npy file (no header length)");
    hlen = b[0] | (b[1] << 8);
  } else if (ver[0] == 2 || ver[0] == 3) {
    unsigned char b[4];
    if (!f.read(reinterpret_cast<char*>(b), 4)) bad(path, "truncated .npy file (no header length)");
    hlen = b[0] | (b[1] << 8) | (b[2] << 16) | (uint32_t(b[3]) << 24);
  } else {
    bad(path, ".npy format version " + std::to_string(ver[0]) + " is not supported (1, 2 and 3 are)");
  }
  const std::streamoff data_start = f.tellg() + std::streamoff(hlen);
  if (hlen > kMaxHeaderBytes)
    bad(path, ".npy header length " + std::to_string(hlen) + " bytes exceeds the limit of " +
                  std::to_string(kMaxHeaderBytes) + " bytes");
  if (file_bytes >= 0 && data_start > file_bytes)
    bad(path, "truncated .npy file: the header length is " + std::to_string(hlen) + " bytes but the file has " +
                  std::to_string(file_bytes) + " bytes in all");
  std::string header(hlen, '\0');
  if (!f.read(header.data(), hlen)) bad(path, "truncated .npy header");
  const std::string descr = dict_value(header, "descr", path);
  const std::string order = dict_value(header, "fortran_order", path);
  if (order == "True")
    bad(path, "Fortran-order arrays are not supported (save with np.ascontiguousarray)");
  if (order != "False") bad(path, "malformed .npy header: fortran_order is '" + order + "', expected True or False");
  size_t item = 0;
  if (descr == "<f4" || descr == "=f4") item = 4;
  else if (descr == "<f8" || descr == "=f8") item = 8;
  else if (descr == "|u1" || descr == "<u1") item = 1;
  else
    bad(path, "dtype '" + descr + "' is not supported (use float32, float64 or uint8, little-endian)");
  NpyArray a;
  a.shape = parse_shape(dict_value(header, "shape", path), path);
  // The product of the non-zero dimensions is bounded too, so that a shape like (0, 10^11) is
  // refused here rather than producing an empty array with absurd rows or columns.
  int64_t n = 1, nonzero = 1;
  bool empty = false;
  for (int64_t d : a.shape) {
    if (d == 0) {
      empty = true;
      continue;
    }
    if (__builtin_mul_overflow(nonzero, d, &nonzero) || nonzero > kMaxValues)
      bad(path, "shape " + shape_text(a.shape) + " is too large (more than 2^40 values)");
  }
  n = empty ? 0 : nonzero;
  const int64_t want_bytes = n * int64_t(item);
  const auto promise = [&] {
    return ": the header promises " + std::to_string(n) + " values of " + descr + " (shape " + shape_text(a.shape) +
           ", " + std::to_string(want_bytes) + " bytes) but the file holds ";
  };
  if (file_bytes >= 0) {
    const int64_t have_bytes = int64_t(file_bytes - data_start);
    if (have_bytes < want_bytes) bad(path, "truncated" + promise() + std::to_string(have_bytes) + " bytes of data");
    if (have_bytes > want_bytes)
      bad(path, "unexpected data after the array" + promise() + std::to_string(have_bytes) + " bytes of data");
  }
  // In chunks: without a size to check first, the buffer grows only as data arrives.
  std::vector<char> raw;
  if (file_bytes >= 0) raw.reserve(static_cast<size_t>(want_bytes));
  constexpr size_t kChunk = size_t(1) << 24;
  while (int64_t(raw.size()) < want_bytes) {
    const size_t have = raw.size();
    const size_t ask = std::min(kChunk, static_cast<size_t>(want_bytes) - have);
    raw.resize(have + ask);
    f.read(raw.data() + have, static_cast<std::streamsize>(ask));
    raw.resize(have + static_cast<size_t>(f.gcount()));
    if (static_cast<size_t>(f.gcount()) < ask) break;
  }
  if (int64_t(raw.size()) < want_bytes) bad(path, "truncated" + promise() + std::to_string(raw.size()) + " bytes of data");
  if (f.peek() != std::char_traits<char>::eof())
    bad(path, "unexpected data after the array: the header promises " + std::to_string(want_bytes) + " bytes of data");
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
  // Zero-sized items or no items are refused before Eigen sees the shape: a 0 x 10^11 matrix is
  // empty but copying it still walks its 10^11 columns.
  int64_t per = 1;
  bool too_large = false;
  for (size_t d = 0; d < a.shape.size(); ++d) {
    if (a.shape[d] < 0) throw NpyError(path + ": negative dimension in the shape " + shape_text(a.shape));
    if (d > 0 && __builtin_mul_overflow(per, a.shape[d], &per)) too_large = true;
  }
  if (n == 0) throw NpyError(path + ": the array " + shape_text(a.shape) + " holds no items");
  if (per == 0 && !too_large)
    throw NpyError(path + ": the items of the array " + shape_text(a.shape) + " hold no values");
  if (too_large || per > INT_MAX)
    throw NpyError(path + ": more than " + std::to_string(INT_MAX) + " values per item (shape " +
                   shape_text(a.shape) + "); no model takes that many");
  if (a.data.size() % size_t(per) != 0 || int64_t(a.data.size() / size_t(per)) != n)
    throw NpyError(path + ": the array holds " + std::to_string(a.data.size()) + " values, not what its shape " +
                   shape_text(a.shape) + " says");
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
