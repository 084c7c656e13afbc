// The compiler's options by name: one table of key, range, default and meaning, and the parser,
// validator, help text and JSON record built from it.
#include "compile_options.h"

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <sstream>

namespace aimc::compiler {

const char* to_string(CompileOptions::Depthwise d) {
  switch (d) {
    case CompileOptions::Depthwise::automatic: return "automatic";
    case CompileOptions::Depthwise::packed: return "packed";
    case CompileOptions::Depthwise::digital: return "digital";
  }
  return "?";
}

const char* to_string(CompileOptions::WeightScales w) {
  switch (w) {
    case CompileOptions::WeightScales::automatic: return "automatic";
    case CompileOptions::WeightScales::per_tensor: return "per_tensor";
    case CompileOptions::WeightScales::per_column: return "per_column";
  }
  return "?";
}

CompileOptions::Depthwise parse_depthwise(const std::string& text) {
  if (text == "automatic" || text == "auto") return CompileOptions::Depthwise::automatic;
  if (text == "packed") return CompileOptions::Depthwise::packed;
  if (text == "digital") return CompileOptions::Depthwise::digital;
  throw CompileError("depthwise mapping '" + text + "': expected automatic, packed or digital");
}

namespace {

constexpr const char* kPercentRange = "(0, 100]";

bool percent_ok(double p) { return p > 0.0 && p <= 100.0; }

// A row of the table with how to set and check the field.
struct OptionRow {
  CompileOptionInfo info;
  // Parses the text into the field; returns false if the text is not a value of the right type.
  std::function<bool(CompileOptions&, const std::string&)> set;
  std::function<bool(const CompileOptions&)> in_range;
  std::function<std::string(const CompileOptions&)> value;  // for messages
};

bool parse_double(const std::string& text, double& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text.c_str(), &end);
  if (*end != '\0' || errno == ERANGE || !std::isfinite(v)) return false;
  out = v;
  return true;
}

bool parse_long(const std::string& text, long& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (*end != '\0' || errno == ERANGE) return false;
  out = v;
  return true;
}

std::string number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

OptionRow percent_row(const char* key, double CompileOptions::*field, const char* def, const char* meaning) {
  return {{key, kPercentRange, def, meaning},
          [field](CompileOptions& o, const std::string& t) { return parse_double(t, o.*field); },
          [field](const CompileOptions& o) { return percent_ok(o.*field); },
          [field](const CompileOptions& o) { return number(o.*field); }};
}

const std::vector<OptionRow>& rows() {
  static const std::vector<OptionRow> table = {
      {{"calibration_vectors", "integer in [1, 2147483647]", "512",
        "calibration images used (the first N of the training set, or of --input); more give steadier "
        "percentiles and a slower compile"},
       [](CompileOptions& o, const std::string& t) {
         long v = 0;
         if (!parse_long(t, v) || v < 1 || v > INT_MAX) return false;
         o.calibration_vectors = int(v);
         return true;
       },
       [](const CompileOptions& o) { return o.calibration_vectors >= 1; },
       [](const CompileOptions& o) { return std::to_string(o.calibration_vectors); }},
      percent_row("activation_percentile", &CompileOptions::activation_percentile, "99.99",
                  "percentile of each op's float outputs (per sign) mapped to the top activation code; "
                  "below 100 clips rare outliers for resolution"),
      percent_row("adc_percentile", &CompileOptions::adc_percentile, "99.99",
                  "percentile of |column current| over the calibration images mapped to the ADC full "
                  "scale; below 100 saturates rare outliers"),
      percent_row("weight_percentile", &CompileOptions::weight_percentile, "100",
                  "percentile of |W| per op mapped to the top cell level; 100 clips no weight"),
      {{"calibration_patch_elements", "integer >= 1", "16777216",
        "bound on the calibration images of a CNN: images x positions x patch rows of the largest op "
        "(2^24 = 64 MiB of floats)"},
       [](CompileOptions& o, const std::string& t) { return parse_long(t, o.calibration_patch_elements); },
       [](const CompileOptions& o) { return o.calibration_patch_elements >= 1; },
       [](const CompileOptions& o) { return std::to_string(o.calibration_patch_elements); }},
      {{"depthwise", "automatic | packed | digital", "automatic",
        "where depthwise convolutions run: block-diagonal on the tiles (packed), in the digital units "
        "with 8-bit weights (digital), or packed unless it needs more weight loads (automatic)"},
       [](CompileOptions& o, const std::string& t) {
         try {
           o.depthwise = parse_depthwise(t);
         } catch (const CompileError&) {
           return false;
         }
         return true;
       },
       [](const CompileOptions&) { return true; },
       [](const CompileOptions& o) { return std::string(to_string(o.depthwise)); }},
      {{"replicate", "true | false", "false",
        "copy the busiest ops onto tiles the mapping leaves empty while a tile, not the bus, sets the pace"},
       [](CompileOptions& o, const std::string& t) {
         if (t == "true" || t == "1" || t == "yes" || t == "on") return o.replicate = true, true;
         if (t == "false" || t == "0" || t == "no" || t == "off") return o.replicate = false, true;
         return false;
       },
       [](const CompileOptions&) { return true; },
       [](const CompileOptions& o) { return std::string(o.replicate ? "true" : "false"); }},
      {{"weight_scales", "automatic | per_tensor | per_column", "per_tensor",
        "scale of an MVM op's weights on the cell levels: one per op (per_tensor), one per output column "
        "(per_column, a multiply per output in the digital unit), or per column where that lowers the op's "
        "rms weight quantization error by 25 % or more (automatic)"},
       [](CompileOptions& o, const std::string& t) {
         if (t == "automatic") return o.weight_scales = CompileOptions::WeightScales::automatic, true;
         if (t == "per_tensor") return o.weight_scales = CompileOptions::WeightScales::per_tensor, true;
         if (t == "per_column") return o.weight_scales = CompileOptions::WeightScales::per_column, true;
         return false;
       },
       [](const CompileOptions&) { return true; },
       [](const CompileOptions& o) { return std::string(to_string(o.weight_scales)); }},
      {{"bias_in_array", "true | false", "false",
        "reserve an always-on input row per column block for the bias (counted in the cells used); the "
        "digital unit still adds the bias"},
       [](CompileOptions& o, const std::string& t) {
         if (t == "true" || t == "1" || t == "yes" || t == "on") return o.bias_in_array = true, true;
         if (t == "false" || t == "0" || t == "no" || t == "off") return o.bias_in_array = false, true;
         return false;
       },
       [](const CompileOptions&) { return true; },
       [](const CompileOptions& o) { return std::string(o.bias_in_array ? "true" : "false"); }},
  };
  return table;
}

std::string known_keys() {
  std::string s;
  for (const OptionRow& r : rows()) s += (s.empty() ? "" : ", ") + r.info.key;
  return s;
}

}  // namespace

const std::vector<CompileOptionInfo>& compile_option_table() {
  static const std::vector<CompileOptionInfo> infos = [] {
    std::vector<CompileOptionInfo> v;
    for (const OptionRow& r : rows()) v.push_back(r.info);
    return v;
  }();
  return infos;
}

void set_compile_option(CompileOptions& options, const std::string& key_value) {
  const size_t eq = key_value.find('=');
  if (eq == std::string::npos || eq == 0)
    throw CompileError("compile option '" + key_value + "': expected KEY=VALUE (keys: " + known_keys() + ")");
  const std::string key = key_value.substr(0, eq), text = key_value.substr(eq + 1);
  for (const OptionRow& r : rows()) {
    if (r.info.key != key) continue;
    CompileOptions trial = options;
    if (!r.set(trial, text) || !r.in_range(trial))
      throw CompileError("compile option " + key + " = '" + text + "': expected " + r.info.range);
    options = trial;
    return;
  }
  throw CompileError("unknown compile option '" + key + "' (keys: " + known_keys() + ")");
}

void set_compile_options(CompileOptions& options, const std::vector<std::string>& key_values) {
  for (const std::string& kv : key_values) set_compile_option(options, kv);
}

void validate_options(const CompileOptions& options) {
  for (const OptionRow& r : rows())
    if (!r.in_range(options))
      throw CompileError("compile option " + r.info.key + " = " + r.value(options) + ": need " + r.info.range);
}

std::string compile_options_help() {
  std::string s;
  for (const CompileOptionInfo& i : compile_option_table())
    s += "  " + i.key + " = " + i.range + " (default " + i.default_value + "): " + i.meaning + "\n";
  return s;
}

nlohmann::json to_json(const CompileOptions& options) {
  nlohmann::json j = {{"calibration_vectors", options.calibration_vectors},
                      {"activation_percentile", options.activation_percentile},
                      {"adc_percentile", options.adc_percentile},
                      {"weight_percentile", options.weight_percentile},
                      {"depthwise", to_string(options.depthwise)},
                      {"replicate", options.replicate}};
  if (options.calibration_patch_elements != CompileOptions{}.calibration_patch_elements)
    j["calibration_patch_elements"] = options.calibration_patch_elements;
  if (options.bias_in_array) j["bias_in_array"] = true;
  if (options.weight_scales != CompileOptions{}.weight_scales) j["weight_scales"] = to_string(options.weight_scales);
  return j;
}

}  // namespace aimc::compiler
