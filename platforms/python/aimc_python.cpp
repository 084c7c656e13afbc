// The Python module `aimc` (docs/python.md). Platforms are loaded and checked here, in process
// (the config library: the same messages as the tool); simulations and sweeps run in a worker
// process, the `aimc` tool, because SystemC elaborates one platform per process: a notebook can
// call aimc.run as often as it likes. Waiting for a worker releases the GIL and answers Ctrl-C
// (the worker is stopped, KeyboardInterrupt raised).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "config/platform_config.h"
#include "io/atomic_file.h"

extern char** environ;

namespace py = pybind11;
namespace fs = std::filesystem;

namespace {

// Raised in Python as aimc.ConfigError and aimc.RunError (both aimc.Error).
struct ConfigFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct RunFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string read_text(const fs::path& p) { return aimc::io::read_file_or_empty(p.string()); }

// The folder of this module's shared object.
fs::path module_dir() {
  Dl_info info{};
  if (::dladdr(reinterpret_cast<void*>(&module_dir), &info) == 0 || !info.dli_fname) return {};
  return fs::path(info.dli_fname).parent_path();
}

// The aimc tool the module runs: $AIMC_EXE; in the build tree the file aimc-exe beside the module
// (written by the build); installed, <prefix>/bin/aimc (AIMC_PYTHON_TO_BINDIR from the module's
// folder). Raises when none is there.
std::string executable() {
  if (const char* e = std::getenv("AIMC_EXE"); e && *e) {
    if (::access(e, X_OK) != 0) throw std::runtime_error(std::string("$AIMC_EXE=") + e + ": not an executable");
    return e;
  }
  const fs::path here = module_dir();
  std::string built = read_text(here / "aimc-exe");
  while (!built.empty() && (built.back() == '\n' || built.back() == '\r')) built.pop_back();
  if (!built.empty() && ::access(built.c_str(), X_OK) == 0) return built;
  const fs::path installed = (here / AIMC_PYTHON_TO_BINDIR / "aimc").lexically_normal();
  if (::access(installed.c_str(), X_OK) == 0) return installed.string();
  throw std::runtime_error("cannot find the aimc tool: set $AIMC_EXE, or use the module from the build folder "
                           "(beside aimc-exe) or the install (" + installed.string() + ")");
}

struct Finished {
  int status = 0;          // as waitpid gives it
  std::string out, err;    // the worker's standard output and error
};

// Runs argv as a worker process, its output in temporary files; the GIL is released while it runs.
// `timeout_s` <= 0: none. Ctrl-C (a pending KeyboardInterrupt) stops the worker (SIGINT, then
// SIGKILL after 10 s) and raises.
Finished run_worker(const std::vector<std::string>& argv, double timeout_s) {
  char out_name[] = "/tmp/aimc-py-out-XXXXXX", err_name[] = "/tmp/aimc-py-err-XXXXXX";
  const int out_fd = ::mkstemp(out_name), err_fd = ::mkstemp(err_name);
  if (out_fd < 0 || err_fd < 0) throw std::runtime_error("aimc: cannot make temporary files in /tmp");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
  posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0].c_str(), &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(out_fd);
  ::close(err_fd);
  const auto cleanup = [&] {
    ::unlink(out_name);
    ::unlink(err_name);
  };
  if (rc != 0) {
    cleanup();
    throw std::runtime_error("aimc: cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  int status = 0;
  bool interrupted = false, timed_out = false;
  for (;;) {
    pid_t w;
    {
      py::gil_scoped_release release;
      w = ::waitpid(pid, &status, WNOHANG);
      if (w == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (w == pid || (w < 0 && errno != EINTR)) break;
    if (PyErr_CheckSignals() != 0) interrupted = true;
    if (timeout_s > 0 && std::chrono::duration<double>(Clock::now() - t0).count() > timeout_s) timed_out = true;
    if (interrupted || timed_out) {
      ::kill(pid, SIGINT);  // aimc stops at the next command boundary
      py::gil_scoped_release release;
      for (int i = 0; i < 500 && ::waitpid(pid, &status, WNOHANG) == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (::waitpid(pid, &status, WNOHANG) == 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
      }
      break;
    }
  }
  Finished f{status, read_text(out_name), read_text(err_name)};
  cleanup();
  if (interrupted) throw py::error_already_set();  // the KeyboardInterrupt PyErr_CheckSignals set
  if (timed_out) {
    std::ostringstream m;
    m << "aimc " << argv[1] << ": did not finish within " << timeout_s << " s (timeout) and was stopped";
    throw RunFailure(m.str());
  }
  return f;
}

py::object json_to_python(const nlohmann::json& j) {
  return py::module_::import("json").attr("loads")(j.dump());
}

nlohmann::json yaml_to_json(const YAML::Node& n) {
  if (n.IsMap()) {
    nlohmann::json o = nlohmann::json::object();
    for (const auto& kv : n) o[kv.first.Scalar()] = yaml_to_json(kv.second);
    return o;
  }
  if (n.IsSequence()) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& x : n) a.push_back(yaml_to_json(x));
    return a;
  }
  if (!n.IsScalar()) return nullptr;
  const std::string s = n.Scalar();
  if (s == "true" || s == "false") return s == "true";
  char* end = nullptr;
  const long long i = std::strtoll(s.c_str(), &end, 10);
  if (!s.empty() && *end == '\0') return i;
  const double d = std::strtod(s.c_str(), &end);
  if (!s.empty() && *end == '\0') return d;
  return s;
}

// A sweep table (DIR/results.csv or summary.csv) as a pandas DataFrame when pandas is there, else
// a list of dicts; numbers become int or float, the id, name, status and text columns stay text.
py::object read_table(const std::string& dir, const std::string& which) {
  const fs::path path = fs::path(dir) / (which + ".csv");
  if (!fs::exists(path)) throw RunFailure("aimc: no table " + path.string());
  py::object f = py::module_::import("builtins").attr("open")(path.string(), "r", py::arg("newline") = "");
  py::list rows(py::module_::import("csv").attr("DictReader")(f));
  f.attr("close")();
  static const std::vector<std::string> text = {"point", "model", "status", "error", "report"};
  py::list out;
  for (const auto& row : rows) {
    py::dict d;
    for (const auto& kv : row.cast<py::dict>()) {
      const std::string k = kv.first.cast<std::string>();
      const std::string v = kv.second.is_none() ? std::string() : kv.second.cast<std::string>();
      if (std::find(text.begin(), text.end(), k) != text.end()) {
        d[kv.first] = v;
        continue;
      }
      char* end = nullptr;
      const long long i = std::strtoll(v.c_str(), &end, 10);
      if (!v.empty() && *end == '\0') {
        d[kv.first] = i;
        continue;
      }
      const double x = std::strtod(v.c_str(), &end);
      if (!v.empty() && *end == '\0') d[kv.first] = x;
      else if (v.empty()) d[kv.first] = py::none();
      else d[kv.first] = v;
    }
    out.append(d);
  }
  try {
    return py::module_::import("pandas").attr("DataFrame")(out);
  } catch (const py::error_already_set&) {
    return std::move(out);  // no pandas
  }
}

std::vector<std::string> as_list(const std::optional<std::vector<std::string>>& v) {
  return v ? *v : std::vector<std::string>{};
}

}  // namespace

PYBIND11_MODULE(aimc, m) {
  m.doc() =
      "aimc-vp from Python (docs/python.md): load and check platforms, run models and sweeps.\n"
      "Simulations run in worker processes (the aimc tool), so one interpreter runs any number.";
  m.attr("__version__") = "0.1.0";
  static py::exception<std::runtime_error> error(m, "Error");
  py::register_exception<ConfigFailure>(m, "ConfigError", error.ptr());
  py::register_exception<RunFailure>(m, "RunError", error.ptr());

  m.def("read_table", &read_table, py::arg("out"), py::arg("which") = "results",
        "A sweep folder's table: which='results' (a row per run) or 'summary' (a row per point,\n"
        "statistics over the seeds); a pandas DataFrame when pandas is installed, else a list of dicts.");
  m.def("executable", &executable,
        "The aimc tool the module runs ($AIMC_EXE, else the build's or the install's).");

  m.def(
      "load_platform",
      [](const std::optional<std::string>& path, const std::optional<std::vector<std::string>>& set) {
        std::string p = path.value_or("");
        if (p.empty()) {
          // The bundled preset, found as the tool finds it: ask the tool.
          const Finished f = run_worker({executable(), "config"}, 60);
          if (!WIFEXITED(f.status) || WEXITSTATUS(f.status) != 0) throw ConfigFailure("aimc config: " + f.err);
          try {
            return json_to_python(yaml_to_json(YAML::Load(
                aimc::config::dump_platform(aimc::config::load_platform_from_string(f.out, "the bundled preset", as_list(set))))));
          } catch (const aimc::config::ConfigError& e) {
            throw ConfigFailure(e.what());
          }
        }
        try {
          const aimc::config::PlatformConfig cfg = aimc::config::load_platform(p, as_list(set));
          return json_to_python(yaml_to_json(YAML::Load(aimc::config::dump_platform(cfg))));
        } catch (const aimc::config::ConfigError& e) {
          throw ConfigFailure(e.what());
        }
      },
      py::arg("path") = py::none(), py::arg("set") = py::none(),
      "The effective configuration of a platform YAML (default: the bundled preset) with `set`\n"
      "overrides ['tile.adc.bits=6', ...], as a dict; raises aimc.ConfigError naming the file,\n"
      "line and key when the loader refuses it (the same checks as the tool).");

  m.def(
      "platform_keys",
      [] {
        py::list out;
        for (const auto& k : aimc::config::describe_keys()) {
          py::dict d;
          d["key"] = k.key;
          d["unit"] = k.unit;
          d["range"] = k.range;
          d["meaning"] = k.meaning;
          out.append(d);
        }
        return out;
      },
      "Every platform key: dicts of key, unit, range and meaning (docs/platform-config.md).");

  m.def(
      "run",
      [](const std::optional<std::string>& platform, const std::optional<std::string>& model,
         const std::optional<long>& limit, const std::optional<uint64_t>& seed,
         const std::optional<std::vector<std::string>>& set, const std::optional<std::string>& input,
         const std::optional<std::string>& data, const std::optional<std::vector<std::string>>& options,
         double timeout) {
        char dir_template[] = "/tmp/aimc-py-XXXXXX";
        if (!::mkdtemp(dir_template)) throw std::runtime_error("aimc.run: cannot make a temporary folder in /tmp");
        const fs::path dir(dir_template);
        const fs::path report = dir / "report.json";
        std::vector<std::string> argv = {executable(), "run", "--no-progress", "-q", "--report", report.string()};
        if (platform) argv.insert(argv.end(), {"--platform", *platform});
        if (model) argv.insert(argv.end(), {"--model", *model});
        if (limit) argv.insert(argv.end(), {"--limit", std::to_string(*limit)});
        if (seed) argv.insert(argv.end(), {"--seed", std::to_string(*seed)});
        if (input) argv.insert(argv.end(), {"--input", *input});
        if (data) argv.insert(argv.end(), {"--data", *data});
        for (const auto& kv : as_list(set)) argv.insert(argv.end(), {"--set", kv});
        for (const auto& o : as_list(options)) argv.push_back(o);
        Finished f;
        try {
          f = run_worker(argv, timeout);
        } catch (...) {
          fs::remove_all(dir);
          throw;
        }
        const std::string text = read_text(report);
        fs::remove_all(dir);
        if (!WIFEXITED(f.status) || WEXITSTATUS(f.status) != 0 || text.empty()) {
          std::string why = f.err.empty() ? f.out : f.err;
          while (!why.empty() && why.back() == '\n') why.pop_back();
          const std::string what = "aimc run exited with " +
                                   (WIFEXITED(f.status) ? "code " + std::to_string(WEXITSTATUS(f.status))
                                                        : std::string("signal ") + std::to_string(WTERMSIG(f.status))) +
                                   (why.empty() ? std::string() : ": " + why);
          throw RunFailure(what);
        }
        return py::module_::import("json").attr("loads")(text);
      },
      py::arg("platform") = py::none(), py::arg("model") = py::none(), py::arg("limit") = py::none(),
      py::arg("seed") = py::none(), py::arg("set") = py::none(), py::arg("input") = py::none(),
      py::arg("data") = py::none(), py::arg("options") = py::none(), py::arg("timeout") = 0.0,
      "Runs `aimc run` in a worker process and returns its report as a dict (README, \"The report\").\n"
      "platform, model: files (default: the bundled preset and MLP); limit: images; seed; set:\n"
      "['KEY=VALUE', ...]; input: 'random' or a .npy file; data: the Fashion-MNIST folder;\n"
      "options: more aimc run arguments, e.g. ['--at', '1h']; timeout: seconds (0: none).\n"
      "Raises aimc.RunError with the tool's message when the run fails.");

  m.def(
      "sweep",
      [](const std::string& spec, const std::string& out, const std::optional<int>& jobs,
         const std::string& backend, const std::optional<std::vector<std::string>>& options, double timeout) {
        std::vector<std::string> argv = {executable(), "sweep", spec, "-o", out, "--no-progress", "--backend", backend};
        if (jobs) argv.insert(argv.end(), {"-j", std::to_string(*jobs)});
        for (const auto& o : as_list(options)) argv.push_back(o);
        const Finished f = run_worker(argv, timeout);
        // 0: every run ok; 1: some failed (their rows say why); anything else: no table.
        if (!WIFEXITED(f.status) || WEXITSTATUS(f.status) > 1 || !fs::exists(fs::path(out) / "results.csv")) {
          std::string why = f.err;
          while (!why.empty() && why.back() == '\n') why.pop_back();
          throw RunFailure("aimc sweep failed: " + why);
        }
        return read_table(out, "results");
      },
      py::arg("spec"), py::arg("out"), py::arg("jobs") = py::none(), py::arg("backend") = "local",
      py::arg("options") = py::none(), py::arg("timeout") = 0.0,
      "Runs `aimc sweep SPEC -o OUT` (docs/sweeps.md) in a worker process and returns its table\n"
      "(results.csv): a pandas DataFrame when pandas is installed, else a list of dicts. Runs that\n"
      "failed are rows with status 'failed'; raises aimc.RunError when the sweep itself fails.");
}
