#include "sweep_spec.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "config/platform_config.h"
#include "numerics/rng.h"
#include "io/atomic_file.h"

namespace aimc::app {

namespace fs = std::filesystem;

namespace {

// The `aimc run` options a sweep file may add to every run (`options:`): the ones that set the
// conditions of a run. Outputs (--report, --trace, ...) are the sweep's, and the platform, model,
// inputs and seed are fields of their own.
const std::set<std::string> kValueOptions = {"--at", "--temp-c", "--depthwise", "--compile-option",
                                             "--batch"};
const std::set<std::string> kFlagOptions = {"--drift-comp", "--replicate"};

// The largest sweep a file may describe: a typo such as `count: 1e9` is refused, not run.
constexpr size_t kMaxRuns = 1000000;
// The key that pairs a model with a point (zip, points): not a platform key, not a table column
// of its own (the tables' model column shows it).
constexpr char kModelKey[] = "model";

[[noreturn]] void fail(const std::string& file, const YAML::Node& at, const std::string& what) {
  std::ostringstream s;
  s << file;
  if (at.IsDefined() && at.Mark().line >= 0) s << ":" << at.Mark().line + 1;
  s << ": " << what;
  throw SweepSpecError(s.str());
}

std::string scalar(const std::string& file, const YAML::Node& n, const std::string& what) {
  if (!n.IsScalar()) fail(file, n, what + ": expected a single value");
  return n.Scalar();
}

long integer(const std::string& file, const YAML::Node& n, const std::string& what, long lo, long hi) {
  const std::string s = scalar(file, n, what);
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno != 0 || v < lo || v > hi)
    fail(file, n, what + ": expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                      "], got '" + s + "'");
  return v;
}

double number(const std::string& file, const YAML::Node& n, const std::string& what) {
  const std::string s = scalar(file, n, what);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !std::isfinite(v))
    fail(file, n, what + ": expected a finite number, got '" + s + "'");
  return v;
}

// The keys of a point that are `aimc run` options rather than platform keys: run.KEY is --KEY
// (run.temp_c: --temp-c).
const std::map<std::string, std::string> kRunKeys = {
    {"run.at", "--at"}, {"run.temp_c", "--temp-c"}, {"run.batch", "--batch"}, {"run.depthwise", "--depthwise"}};

// A platform key: dotted, and one the loader knows (so that a typo is refused here, with the file
// and line, rather than once per point); or one of kRunKeys where `run_keys` allows them.
std::string platform_key(const std::string& file, const YAML::Node& n, bool run_keys = true) {
  const std::string key = scalar(file, n, "a platform key");
  if (run_keys && kRunKeys.count(key)) return key;
  if (key.rfind("run.", 0) == 0)
    fail(file, n, "'" + key + "' is not a key a point may set (" +
                      (run_keys ? std::string("run.at, run.temp_c, run.batch, run.depthwise") : std::string("set: takes platform keys only")) + ")");
  static const std::set<std::string> known = [] {
    std::set<std::string> k;
    for (const auto& info : config::describe_keys()) k.insert(info.key);
    return k;
  }();
  if (!known.count(key)) fail(file, n, "'" + key + "' is not a platform key (docs/platform-config.md)");
  return key;
}

// A named file: relative to the sweep file's folder or absolute; else the bundled one in `dir`.
std::string resolve(const std::string& file, const YAML::Node& n, const std::string& dir,
                    const char* what) {
  const std::string name = scalar(file, n, what);
  const fs::path p(name);
  const fs::path beside = p.is_absolute() ? p : fs::path(file).parent_path() / p;
  if (fs::is_regular_file(beside)) return beside.string();
  if (!dir.empty() && !p.is_absolute() && fs::is_regular_file(fs::path(dir) / p))
    return (fs::path(dir) / p).string();
  fail(file, n, std::string(what) + " '" + name + "': no such file beside the sweep file" +
                    (dir.empty() ? std::string() : " or in " + dir));
}

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

// One sampled value of a `random:` key.
struct Sampler {
  std::string key;
  enum class Kind { integer, uniform, log_uniform, choice } kind = Kind::uniform;
  double lo = 0, hi = 0;
  std::vector<std::string> choices;

  std::string draw(num::Rng& rng) const {
    const double u = rng.uniform();
    switch (kind) {
      case Kind::integer:
        return std::to_string(static_cast<long>(lo) +
                              static_cast<long>(std::floor(u * (hi - lo + 1))));
      case Kind::uniform: return format_number(lo + u * (hi - lo));
      case Kind::log_uniform: return format_number(std::exp(std::log(lo) + u * (std::log(hi) - std::log(lo))));
      case Kind::choice: return choices[std::min(choices.size() - 1, static_cast<size_t>(u * choices.size()))];
    }
    return {};
  }
};

Sampler read_sampler(const std::string& file, const std::string& key, const YAML::Node& n) {
  Sampler s;
  s.key = key;
  if (!n.IsMap() || n.size() != 1)
    fail(file, n, key + ": expected one of {int: [LO, HI]}, {uniform: [LO, HI]}, {log_uniform: [LO, HI]}, "
                        "{choice: [V1, V2, ...]}");
  const std::string kind = n.begin()->first.Scalar();
  const YAML::Node v = n.begin()->second;
  if (kind == "choice") {
    s.kind = Sampler::Kind::choice;
    if (!v.IsSequence() || v.size() == 0) fail(file, v, key + ": choice: expected a list of values");
    for (const auto& c : v) s.choices.push_back(scalar(file, c, key + ": choice"));
    return s;
  }
  if (kind == "int") s.kind = Sampler::Kind::integer;
  else if (kind == "uniform") s.kind = Sampler::Kind::uniform;
  else if (kind == "log_uniform") s.kind = Sampler::Kind::log_uniform;
  else fail(file, n, key + ": unknown distribution '" + kind + "' (int, uniform, log_uniform, choice)");
  if (!v.IsSequence() || v.size() != 2) fail(file, v, key + ": " + kind + ": expected [LO, HI]");
  if (s.kind == Sampler::Kind::integer) {
    s.lo = static_cast<double>(integer(file, v[0], key + ": int", -(1L << 40), 1L << 40));
    s.hi = static_cast<double>(integer(file, v[1], key + ": int", -(1L << 40), 1L << 40));
  } else {
    s.lo = number(file, v[0], key + ": " + kind);
    s.hi = number(file, v[1], key + ": " + kind);
  }
  if (!(s.lo <= s.hi)) fail(file, v, key + ": " + kind + ": LO must not exceed HI");
  if (s.kind == Sampler::Kind::log_uniform && !(s.lo > 0))
    fail(file, v, key + ": log_uniform: LO must be above 0");
  return s;
}

// A {key: [values]} map, in file order. With `models_dir` (zip) the key `model` is taken too, its
// values ONNX files resolved as `models` resolves them; without (axes) it is refused.
std::vector<std::pair<std::string, std::vector<std::string>>> read_axes(const std::string& file,
                                                                        const YAML::Node& n,
                                                                        const char* field,
                                                                        const std::string* models_dir = nullptr) {
  if (!n.IsMap()) fail(file, n, std::string(field) + ": expected KEY: [VALUES] lines");
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const auto& kv : n) {
    const bool model = kv.first.IsScalar() && kv.first.Scalar() == kModelKey;
    if (model && !models_dir)
      fail(file, kv.first, std::string(field) + ": model: every model in `models` runs every point; to pair "
                           "models with values of other keys, put model in `zip` or in `points`");
    const std::string key = model ? std::string(kModelKey) : platform_key(file, kv.first);
    const YAML::Node v = kv.second;
    if (!v.IsSequence() || v.size() == 0) fail(file, v, std::string(field) + ": " + key + ": expected a non-empty list");
    std::vector<std::string> values;
    for (const auto& x : v) values.push_back(model ? resolve(file, x, *models_dir, "model") : scalar(file, x, key));
    out.emplace_back(key, std::move(values));
  }
  return out;
}

std::string hex12(uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%012llx", static_cast<unsigned long long>(h & 0xFFFFFFFFFFFFull));
  return buf;
}

// The value of a dotted key in the effective configuration's YAML.
std::string effective_value(const YAML::Node& root, const std::string& key) {
  YAML::Node n;
  n.reset(root);  // reset rebinds: `=` on a yaml-cpp node would assign into the tree
  std::stringstream ss(key);
  std::string part;
  while (std::getline(ss, part, '.')) {
    if (!n.IsMap()) return {};
    const YAML::Node child = n[part];
    if (!child) return {};
    n.reset(child);
  }
  if (n.IsScalar()) return n.Scalar();
  YAML::Emitter e;
  e << YAML::Flow << n;
  return e.c_str();
}

}  // namespace

const std::vector<std::string>& default_sweep_figures() {
  static const std::vector<std::string> f = {
      "accuracy.platform",      "agreement_with_float.top1",   "energy_j.per_inference",
      "latency_ns.per_inference", "throughput_inferences_per_s", "average_power_w",
      "area_mm2.total",         "energy_j.by_component.*"};
  return f;
}

SweepSpec read_sweep_spec(const std::string& path, const SweepLookup& lookup) {
  if (!fs::is_regular_file(path)) throw SweepSpecError(path + ": no such sweep file");
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw SweepSpecError(path + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
  }
  if (!root.IsMap()) throw SweepSpecError(path + ": expected a map of sweep fields (docs/sweeps.md)");
  static const std::set<std::string> fields = {"platform", "set",    "models", "data",  "input",  "limit",
                                               "options",  "axes",   "zip",    "points", "random", "seeds",
                                               "collect"};
  for (const auto& kv : root) {
    const std::string f = kv.first.IsScalar() ? kv.first.Scalar() : std::string("?");
    if (!fields.count(f))
      fail(path, kv.first, "unknown field '" + f + "' (platform, set, models, data, input, limit, options, "
                           "axes, zip, points, random, seeds, collect)");
  }
  SweepSpec s;
  s.file = path;
  if (root["platform"])
    s.platform = resolve(path, root["platform"], lookup.platforms_dir, "platform");
  else if (!lookup.platforms_dir.empty())
    s.platform = (fs::path(lookup.platforms_dir) / "membrain-3x4.yaml").string();
  else
    throw SweepSpecError(path + ": no platform: field, and no bundled preset (the data folder was not found)");
  if (const YAML::Node n = root["set"]) {
    if (!n.IsMap()) fail(path, n, "set: expected KEY: VALUE lines");
    for (const auto& kv : n) s.set.emplace_back(platform_key(path, kv.first, false), scalar(path, kv.second, "set"));
  }
  if (const YAML::Node n = root["models"]) {
    if (!n.IsSequence() || n.size() == 0) fail(path, n, "models: expected a non-empty list of ONNX files");
    for (const auto& m : n) s.models.push_back(resolve(path, m, lookup.models_dir, "model"));
  } else if (!lookup.models_dir.empty()) {
    s.models.push_back((fs::path(lookup.models_dir) / "fashion_mnist_mlp.onnx").string());
  } else {
    throw SweepSpecError(path + ": no models: field, and no bundled model");
  }
  if (const YAML::Node n = root["data"]) {
    s.data = scalar(path, n, "data");
    if (fs::path(s.data).is_relative()) s.data = (fs::path(path).parent_path() / s.data).string();
    if (!fs::is_directory(s.data)) fail(path, n, "data: '" + s.data + "' is not a folder");
  }
  if (const YAML::Node n = root["input"]) {
    s.input = scalar(path, n, "input");
    if (s.input != "random") s.input = resolve(path, n, "", "input");
  }
  if (const YAML::Node n = root["limit"]) s.limit = integer(path, n, "limit", 1, 1000000000);
  if (const YAML::Node n = root["options"]) {
    if (!n.IsSequence()) fail(path, n, "options: expected a list, e.g. [--at, 1h, --drift-comp]");
    for (size_t i = 0; i < n.size(); ++i) {
      const std::string o = scalar(path, n[i], "options");
      if (kFlagOptions.count(o)) {
        s.run_options.push_back(o);
      } else if (kValueOptions.count(o)) {
        if (i + 1 >= n.size()) fail(path, n[i], "options: " + o + " needs a value after it");
        s.run_options.push_back(o);
        s.run_options.push_back(scalar(path, n[++i], "options"));
      } else {
        fail(path, n[i], "options: '" + o + "' is not an aimc run option a sweep may set (--at, --temp-c, "
                         "--drift-comp, --depthwise, --replicate, --compile-option, --batch; platform keys "
                         "go in axes or set)");
      }
    }
  }

  // Design points: the grid of the axes crossed with the zipped axes, then the listed points,
  // then the random ones.
  std::vector<std::string>& axes = s.axes;
  const auto add_axis = [&axes](const std::string& k) {
    if (std::find(axes.begin(), axes.end(), k) == axes.end()) axes.push_back(k);
  };
  std::vector<std::pair<std::string, std::vector<std::string>>> grid, zipped;
  if (root["axes"]) grid = read_axes(path, root["axes"], "axes");
  if (root["zip"]) {
    zipped = read_axes(path, root["zip"], "zip", &lookup.models_dir);
    for (const auto& z : zipped)
      if (z.second.size() != zipped.front().second.size())
        fail(path, root["zip"], "zip: every key needs as many values (" + zipped.front().first + " has " +
                                    std::to_string(zipped.front().second.size()) + ", " + z.first + " " +
                                    std::to_string(z.second.size()) + ")");
  }
  for (const auto& g : grid) add_axis(g.first);
  for (const auto& z : zipped) {
    for (const auto& g : grid)
      if (g.first == z.first) fail(path, root["zip"], "zip: " + z.first + " is also in axes");
    if (z.first != kModelKey) add_axis(z.first);  // the tables' model column shows the model
  }
  if (!grid.empty() || !zipped.empty()) {
    size_t n = zipped.empty() ? 1 : zipped.front().second.size();
    for (const auto& g : grid) {
      if (n > kMaxRuns / g.second.size()) fail(path, root["axes"], "axes: more than a million points");
      n *= g.second.size();
    }
    for (size_t i = 0; i < n; ++i) {
      std::vector<SweepSetting> p;
      size_t rest = i;
      // The last axis varies fastest; the zipped axes slowest, together.
      std::vector<size_t> idx(grid.size());
      for (size_t a = grid.size(); a-- > 0;) {
        idx[a] = rest % grid[a].second.size();
        rest /= grid[a].second.size();
      }
      for (const auto& z : zipped) p.emplace_back(z.first, z.second[rest]);
      for (size_t a = 0; a < grid.size(); ++a) p.emplace_back(grid[a].first, grid[a].second[idx[a]]);
      s.points.push_back(std::move(p));
    }
  }
  if (const YAML::Node n = root["points"]) {
    if (!n.IsSequence()) fail(path, n, "points: expected a list of {KEY: VALUE, ...}");
    for (const auto& pt : n) {
      if (!pt.IsMap() || pt.size() == 0) fail(path, pt, "points: each point is a map {KEY: VALUE, ...}");
      std::vector<SweepSetting> p;
      for (const auto& kv : pt) {
        if (kv.first.IsScalar() && kv.first.Scalar() == kModelKey) {
          p.emplace_back(kModelKey, resolve(path, kv.second, lookup.models_dir, "model"));
          continue;
        }
        p.emplace_back(platform_key(path, kv.first), scalar(path, kv.second, "points"));
        add_axis(p.back().first);
      }
      s.points.push_back(std::move(p));
    }
  }
  if (const YAML::Node n = root["random"]) {
    if (!n.IsMap()) fail(path, n, "random: expected {count: N, seed: S, keys: {KEY: {DISTRIBUTION: ...}}}");
    for (const auto& kv : n)
      if (kv.first.Scalar() != "count" && kv.first.Scalar() != "seed" && kv.first.Scalar() != "keys")
        fail(path, kv.first, "random: unknown field '" + kv.first.Scalar() + "' (count, seed, keys)");
    if (!n["count"] || !n["keys"]) fail(path, n, "random: needs count and keys");
    const long count = integer(path, n["count"], "random: count", 1, static_cast<long>(kMaxRuns));
    const uint64_t seed = n["seed"] ? static_cast<uint64_t>(integer(path, n["seed"], "random: seed", 0, 1L << 53)) : 1;
    if (!n["keys"].IsMap() || n["keys"].size() == 0) fail(path, n["keys"], "random: keys: expected KEY: {DISTRIBUTION: ...}");
    std::vector<Sampler> samplers;
    for (const auto& kv : n["keys"]) {
      samplers.push_back(read_sampler(path, platform_key(path, kv.first), kv.second));
      add_axis(samplers.back().key);
    }
    num::Rng rng(seed);
    for (long i = 0; i < count; ++i) {
      std::vector<SweepSetting> p;
      for (const auto& sm : samplers) p.emplace_back(sm.key, sm.draw(rng));
      s.points.push_back(std::move(p));
    }
  }
  if (s.points.empty()) s.points.emplace_back();  // no axis: the base platform, once

  if (const YAML::Node n = root["seeds"]) {
    if (n.IsScalar()) {
      const long k = integer(path, n, "seeds", 1, 10000);
      for (long i = 1; i <= k; ++i) s.seeds.push_back(static_cast<uint64_t>(i));
    } else if (n.IsSequence() && n.size() > 0) {
      for (const auto& x : n) {
        const uint64_t v = static_cast<uint64_t>(integer(path, x, "seeds", 0, 1L << 53));
        if (std::find(s.seeds.begin(), s.seeds.end(), v) != s.seeds.end())
          fail(path, x, "seeds: " + std::to_string(v) + " is listed twice");
        s.seeds.push_back(v);
      }
    } else {
      fail(path, n, "seeds: expected N (seeds 1..N) or a list of seeds");
    }
  } else {
    s.seeds.push_back(1);
  }
  if (const YAML::Node n = root["collect"]) {
    if (!n.IsSequence() || n.size() == 0) fail(path, n, "collect: expected a list of report figures");
    for (const auto& x : n) s.collect.push_back(scalar(path, x, "collect"));
  } else {
    s.collect = default_sweep_figures();
  }
  for (const auto& a : s.axes) {
    const auto rk = kRunKeys.find(a);
    if (rk != kRunKeys.end() && std::find(s.run_options.begin(), s.run_options.end(), rk->second) != s.run_options.end())
      throw SweepSpecError(path + ": " + a + " is an axis and " + rk->second + " is in options: choose one");
  }
  const size_t runs = s.points.size() * s.models.size() * s.seeds.size();
  if (runs > kMaxRuns) throw SweepSpecError(path + ": " + std::to_string(runs) + " runs: more than a million");
  return s;
}

std::vector<SweepRun> expand_sweep(const SweepSpec& spec, const std::string& version) {
  std::vector<std::string> model_hash;
  for (const auto& m : spec.models) model_hash.push_back(hex12(num::fnv1a64(io::read_file_or_empty(m))));
  const std::string input_hash =
      spec.input.empty() || spec.input == "random" ? spec.input : hex12(num::fnv1a64(io::read_file_or_empty(spec.input)));
  std::string common = "aimc-sweep 1\nversion " + version + "\ndata " + spec.data + "\ninput " + input_hash +
                       "\nlimit " + std::to_string(spec.limit) + "\noptions";
  for (const auto& o : spec.run_options) common += " " + o;
  common += "\n";

  std::map<std::string, std::string> point_model_hash;  // models named by points (zip, points)
  std::vector<SweepRun> runs;
  for (size_t p = 0; p < spec.points.size(); ++p) {
    std::vector<std::string> overrides, run_options;
    for (const auto& kv : spec.set) overrides.push_back(kv.first + "=" + kv.second);
    std::string where, point_model;
    for (const auto& kv : spec.points[p]) {
      if (kv.first == kModelKey) {
        point_model = kv.second;
        continue;
      }
      const auto rk = kRunKeys.find(kv.first);
      if (rk != kRunKeys.end()) run_options.insert(run_options.end(), {rk->second, kv.second});
      else overrides.push_back(kv.first + "=" + kv.second);
      where += (where.empty() ? "" : ", ") + kv.first + "=" + kv.second;
    }
    std::string effective;
    YAML::Node root;
    try {
      effective = config::dump_platform(config::load_platform(spec.platform, overrides));
      root = YAML::Load(effective);
    } catch (const std::exception& e) {
      throw SweepSpecError(spec.file + ": point " + std::to_string(p + 1) + " (" +
                           (where.empty() ? std::string("the base platform") : where) + "): " + e.what());
    }
    std::map<std::string, std::string> axis_values;
    for (const auto& a : spec.axes) {
      if (!kRunKeys.count(a)) {
        axis_values[a] = effective_value(root, a);
        continue;
      }
      // A run option: the point's value, else what `options` or aimc run's default gives.
      std::string v;
      for (const auto& kv : spec.points[p])
        if (kv.first == a) v = kv.second;
      if (v.empty()) {
        const auto it = std::find(spec.run_options.begin(), spec.run_options.end(), kRunKeys.at(a));
        v = it != spec.run_options.end() && it + 1 != spec.run_options.end() ? *(it + 1) : std::string("default");
      }
      axis_values[a] = v;
    }
    std::string options_text;
    for (const auto& o : run_options) options_text += " " + o;
    // A point that names its model runs that one; the others run every model of `models`.
    std::vector<std::pair<std::string, std::string>> models;  // (path, hash)
    if (point_model.empty()) {
      for (size_t m = 0; m < spec.models.size(); ++m) models.emplace_back(spec.models[m], model_hash[m]);
    } else {
      auto it = point_model_hash.find(point_model);
      if (it == point_model_hash.end())
        it = point_model_hash.emplace(point_model, hex12(num::fnv1a64(io::read_file_or_empty(point_model)))).first;
      models.emplace_back(point_model, it->second);
    }
    for (const auto& [model, hash] : models) {
      for (const uint64_t seed : spec.seeds) {
        SweepRun r;
        r.point = p;
        r.model = model;
        r.seed = seed;
        r.overrides = overrides;
        r.run_options = run_options;
        r.axis_values = axis_values;
        r.id = hex12(num::fnv1a64(common + "model " + hash + "\nseed " + std::to_string(seed) +
                                  (options_text.empty() ? std::string() : "\npoint options" + options_text) +
                                  "\nplatform\n" + effective));
        runs.push_back(std::move(r));
      }
    }
  }
  // Two points that come to the same effective platform are one run: keep the first.
  std::set<std::string> seen;
  runs.erase(std::remove_if(runs.begin(), runs.end(), [&seen](const SweepRun& r) { return !seen.insert(r.id).second; }),
             runs.end());
  return runs;
}

}  // namespace aimc::app
