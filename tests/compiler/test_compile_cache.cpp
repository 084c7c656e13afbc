// compile_inputs_text, the key of `aimc run --compile-cache`, names every platform setting the
// compiler reads: each platform key is changed in turn (every leaf of the preset's effective
// configuration, to a value the loader accepts), and whenever the compiled image or summary
// changes, the key text must change too. A setting the compiler starts to read without the key
// naming it fails here, instead of a cache handing out stale images.
#include <gtest/gtest.h>

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "compile.h"
#include "config/platform_config.h"
#include "numerics/rng.h"
#include "onnx_import.h"
#include "source_dir.h"

using namespace aimc::compiler;
namespace config = aimc::config;

namespace {

using aimc::testing::source_dir;

// Every scalar leaf of a YAML tree, as (dotted key, text).
void leaves(const YAML::Node& n, const std::string& prefix, std::vector<std::pair<std::string, std::string>>& out) {
  if (n.IsMap()) {
    for (const auto& kv : n) leaves(kv.second, prefix.empty() ? kv.first.Scalar() : prefix + "." + kv.first.Scalar(), out);
  } else if (n.IsScalar()) {
    out.emplace_back(prefix, n.Scalar());
  }
}

// Other values of a key to try: numbers nudged both ways, booleans flipped, the other spellings
// of an enumeration (from the key's documented range "a | b | c").
std::vector<std::string> other_values(const std::string& key, const std::string& v) {
  std::vector<std::string> out;
  char* end = nullptr;
  const long i = std::strtol(v.c_str(), &end, 10);
  if (!v.empty() && *end == '\0') {
    for (long w : {i + 1, i - 1, i * 2, i / 2}) out.push_back(std::to_string(w));
    return out;
  }
  const double d = std::strtod(v.c_str(), &end);
  if (!v.empty() && *end == '\0') {
    for (double w : {d * 1.5, d * 0.5, d + 0.1, d - 0.1}) {
      std::ostringstream s;
      s.precision(17);
      s << w;
      out.push_back(s.str());
    }
    return out;
  }
  if (v == "true" || v == "false") return {v == "true" ? "false" : "true"};
  for (const auto& info : config::describe_keys()) {
    if (info.key != key) continue;
    std::stringstream ss(info.range);
    for (std::string word; ss >> word;)
      if (word != "|" && word != v && word.find_first_of("[](),") == std::string::npos) out.push_back(word);
  }
  if (out.empty()) out.push_back(v + "x");  // a name, a file: any other text
  return out;
}

struct Compiled {
  std::vector<uint8_t> image;
  std::string summary;
  std::string error;
  bool operator==(const Compiled& o) const { return image == o.image && summary == o.summary && error == o.error; }
};

Compiled compile_with(const Graph& g, const config::PlatformConfig& cfg, const Eigen::MatrixXf& x,
                      const CompileOptions& opt) {
  Compiled c;
  try {
    const CompiledModel m = compile(g, cfg, x, opt);
    c.image = m.image;
    c.summary = m.summary.dump();
  } catch (const CompileError& e) {
    c.error = e.what();
  }
  return c;
}

}  // namespace

TEST(CompilerCache, KeyTextNamesEveryInput) {
  const std::string preset = source_dir() + "/platforms/membrain-3x4.yaml";
  const Graph g = import_onnx(source_dir() + "/platforms/models/fashion_mnist_mlp.onnx");
  Eigen::MatrixXf x(16, g.in_features());
  aimc::num::Rng rng(3);
  for (Eigen::Index k = 0; k < x.size(); ++k) x(k) = static_cast<float>(rng.uniform());
  CompileOptions opt;
  opt.calibration_vectors = 16;
  const config::PlatformConfig base = config::load_platform(preset);
  const Compiled want = compile_with(g, base, x, opt);
  ASSERT_TRUE(want.error.empty()) << want.error;
  const std::string key = compile_inputs_text(base, opt);

  std::vector<std::pair<std::string, std::string>> all;
  leaves(YAML::Load(config::dump_platform(base)), "", all);
  int tried = 0, moved = 0;
  for (const auto& [k, v] : all) {
    for (const std::string& w : other_values(k, v)) {
      config::PlatformConfig cfg;
      try {
        cfg = config::load_platform(preset, {k + "=" + w});
      } catch (const config::ConfigError&) {
        continue;  // outside the key's range
      }
      ++tried;
      const Compiled got = compile_with(g, cfg, x, opt);
      if (got == want) continue;
      ++moved;
      EXPECT_NE(compile_inputs_text(cfg, opt), key)
          << k << "=" << w << " changes the compiled image or summary, but compile_inputs_text does not name " << k;
    }
  }
  // The perturbations reached the platform: most keys take another value, and some of them (the
  // array, the converters, the device, the SRAM) change what the compiler makes.
  EXPECT_GT(tried, 100);
  EXPECT_GT(moved, 5);
}

TEST(CompilerCache, KeyTextFollowsTheOptions) {
  const config::PlatformConfig cfg = config::load_platform(source_dir() + "/platforms/membrain-3x4.yaml");
  CompileOptions a, b;
  b.adc_percentile = 99.0;
  EXPECT_NE(compile_inputs_text(cfg, a), compile_inputs_text(cfg, b));
  b = a;
  b.depthwise = CompileOptions::Depthwise::digital;
  EXPECT_NE(compile_inputs_text(cfg, a), compile_inputs_text(cfg, b));
  // With replication the tiles' cost models count: the whole configuration is in the key.
  b = a;
  b.replicate = true;
  config::PlatformConfig other = cfg;
  other.tile.adc.e_conv_pj *= 2;
  EXPECT_EQ(compile_inputs_text(cfg, a), compile_inputs_text(other, a));
  EXPECT_NE(compile_inputs_text(cfg, b), compile_inputs_text(other, b));
}
