// Deployment image (format fixed by firmware_stubs/include/aimc_image.h): a builder that lays
// sections out, and a validating reader that the platform, the tools and the tests use.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "aimc_image.h"
#include "errors.h"

namespace aimc::compiler {

// Levels of one tile as stored in its WEIGHTS section.
struct TileWeights {
  uint32_t tile = 0;
  uint32_t dest_addr = 0;
  aimc_weights_hdr_t hdr{};
  std::vector<int16_t> levels;  // hdr.rows * hdr.cols, row-major (row = word line / input)
  int16_t level(uint32_t row, uint32_t col) const { return levels[size_t(row) * hdr.cols + col]; }
};

// One segment: its program and the weights its tiles must hold while it runs.
struct SegmentView {
  aimc_program_hdr_t program{};
  uint32_t program_dest_addr = 0;
  std::vector<uint8_t> program_payload;        // the PROGRAM section bytes, as DMA'd
  std::vector<aimc_layer_t> layers;
  std::vector<aimc_slice_t> slices;
  std::vector<float> bias;                     // the program's float table (biases, digital weights)
  std::map<uint32_t, TileWeights> weights;     // by tile index

  const TileWeights& tile_weights(uint32_t tile) const;  // throws ImageError if absent
};

// A parsed and validated image. Structs are copies of the file's little-endian records.
struct ImageView {
  aimc_image_header_t header{};
  std::vector<aimc_image_section_t> sections;  // in file order
  std::string meta_text;                       // META payload ("" if none)
  nlohmann::json meta;                         // parsed META (null if none)
  std::vector<SegmentView> segments;           // in execution order (>= 1)
  // Segment 0's fields, for the common image that fits the chip (one segment).
  aimc_program_hdr_t program{};
  uint32_t program_dest_addr = 0;
  std::vector<uint8_t> program_payload;
  std::vector<aimc_layer_t> layers;
  std::vector<aimc_slice_t> slices;
  std::vector<float> bias;
  std::map<uint32_t, TileWeights> weights;

  const TileWeights& tile_weights(uint32_t tile) const;  // segment 0; throws ImageError if absent
  // The network's input header (segment 0) and output header (last segment).
  const aimc_program_hdr_t& first_program() const { return segments.front().program; }
  const aimc_program_hdr_t& last_program() const { return segments.back().program; }
};

// Checks magic, version, total size, section table and payload bounds (in the file, 8-byte
// aligned, no overlap), section types, one PROGRAM per segment (segments numbered 0..n-1),
// WEIGHTS sizes and level ranges, and each program's consistency (op kinds and shapes, slice
// coverage of every MVM op's rows and columns, slices inside their tile's weights and not
// overlapping, reduce tiles, table ranges, flags, finite positive scales). Throws ImageError
// naming the problem.
ImageView parse_image(const std::vector<uint8_t>& bytes);

// Lays out header, section table and 8-byte-aligned payloads in the order sections are added.
class ImageBuilder {
 public:
  void add_section(uint32_t type, uint32_t tile, uint32_t dest_addr, std::vector<uint8_t> payload, uint32_t segment = 0);
  std::vector<uint8_t> build() const;

 private:
  struct Pending {
    aimc_image_section_t entry;
    std::vector<uint8_t> payload;
  };
  std::vector<Pending> sections_;
};

// Appends the raw bytes of a trivially copyable record (the host is little-endian: checked).
template <typename T>
void append_record(std::vector<uint8_t>& out, const T& record) {
  const auto* p = reinterpret_cast<const uint8_t*>(&record);
  out.insert(out.end(), p, p + sizeof(T));
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes);  // throws std::runtime_error
std::vector<uint8_t> read_file(const std::string& path);                      // throws std::runtime_error

}  // namespace aimc::compiler
