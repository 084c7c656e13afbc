#include "sweep_job.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "io/atomic_file.h"
#include "numerics/rng.h"
#include "run_job.h"
#include "stop_request.h"
#include "sweep_stats.h"

extern char** environ;

namespace aimc::app {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string this_executable() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw UserError("aimc sweep: cannot find its own executable (/proc/self/exe): " + ec.message());
  return p.string();
}

// The state of a run in DIR/points/<id>/: done.json (ok), failed.json, or neither (not run).
enum class State { not_run, ok, failed };

struct Paths {
  fs::path dir;
  explicit Paths(const std::string& out, const std::string& id) : dir(fs::path(out) / "points" / id) {}
  fs::path report() const { return dir / "report.json"; }
  fs::path log() const { return dir / "log.txt"; }
  fs::path done() const { return dir / "done.json"; }
  fs::path failed() const { return dir / "failed.json"; }
};

State state_of(const Paths& p) {
  if (fs::exists(p.done()) && fs::exists(p.report())) return State::ok;
  if (fs::exists(p.failed())) return State::failed;
  return State::not_run;
}

std::vector<std::string> run_argv(const SweepOptions& o, const SweepSpec& spec, const SweepRun& r,
                                  const std::string& exe) {
  const Paths p(o.out_dir, r.id);
  std::vector<std::string> a = {exe, "run", "--platform", spec.platform, "--model", r.model,
                                "--seed", std::to_string(r.seed), "--no-progress", "-q",
                                "--report", p.report().string()};
  if (!spec.data.empty()) a.insert(a.end(), {"--data", spec.data});
  if (!spec.input.empty()) a.insert(a.end(), {"--input", spec.input});
  if (spec.limit > 0) a.insert(a.end(), {"--limit", std::to_string(spec.limit)});
  for (const auto& kv : r.overrides) a.insert(a.end(), {"--set", kv});
  if (o.cache) a.insert(a.end(), {"--compile-cache", (fs::path(o.out_dir) / "cache" / "compile").string()});
  a.insert(a.end(), spec.run_options.begin(), spec.run_options.end());
  return a;
}

std::string shell_quote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+") ==
                        std::string::npos)
    return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Starts one run with its output in log.txt; returns the child's pid (-1 and `error` on failure).
pid_t spawn(const std::vector<std::string>& argv, const fs::path& log, std::string& error) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const auto& s : argv) args.push_back(const_cast<char*>(s.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0].c_str(), &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    error = "cannot start " + argv[0] + ": " + std::strerror(rc);
    return -1;
  }
  return pid;
}

// The last lines of a run's log that say what went wrong (aimc's messages start "aimc:").
std::string error_of(const fs::path& log, int status) {
  std::istringstream in(read_text(log.string()));
  std::vector<std::string> lines, aimc;
  for (std::string l; std::getline(in, l);) {
    if (l.empty()) continue;
    lines.push_back(l);
    if (l.rfind("aimc:", 0) == 0) aimc.push_back(l);
  }
  const std::vector<std::string>& from = aimc.empty() ? lines : aimc;
  std::string e;
  for (size_t i = from.size() > 3 ? from.size() - 3 : 0; i < from.size(); ++i) e += (e.empty() ? "" : " / ") + from[i];
  std::string how;
  if (WIFEXITED(status)) how = "exit code " + std::to_string(WEXITSTATUS(status));
  else if (WIFSIGNALED(status)) how = std::string("killed by signal ") + strsignal(WTERMSIG(status));
  return how + (e.empty() ? std::string() : ": " + e);
}

std::string clock_text(double s) {
  if (!(s >= 0) || !std::isfinite(s)) return "?";
  const long t = std::lround(s);
  std::ostringstream o;
  if (t >= 3600) o << t / 3600 << "h" << std::setw(2) << std::setfill('0') << (t % 3600) / 60 << "m";
  else if (t >= 60) o << t / 60 << "m" << std::setw(2) << std::setfill('0') << t % 60 << "s";
  else o << t << "s";
  return o.str();
}

std::string describe(const SweepRun& r) {
  std::string d = fs::path(r.model).filename().string();
  for (const auto& [k, v] : r.axis_values) d += " " + k + "=" + v;
  return d + " seed " + std::to_string(r.seed);
}

// ---- Tables ------------------------------------------------------------------------------------

std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string number_text(double v) {
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

// A figure of a report by its dotted path; NaN when absent or not a number.
double figure(const json& report, const std::string& path) {
  const json* n = &report;
  std::stringstream ss(path);
  for (std::string part; std::getline(ss, part, '.');) {
    if (!n->is_object() || !n->contains(part)) return NAN;
    n = &(*n)[part];
  }
  if (n->is_number()) return n->get<double>();
  if (n->is_boolean()) return n->get<bool>() ? 1.0 : 0.0;
  return NAN;
}

// `collect` with each "PREFIX.*" replaced by the numeric keys under PREFIX in any ok report.
std::vector<std::string> expand_figures(const std::vector<std::string>& collect, const std::vector<json>& reports) {
  std::vector<std::string> out;
  for (const auto& c : collect) {
    if (c.size() < 2 || c.compare(c.size() - 2, 2, ".*") != 0) {
      out.push_back(c);
      continue;
    }
    const std::string prefix = c.substr(0, c.size() - 2);
    std::set<std::string> keys;
    for (const json& r : reports) {
      const json* n = &r;
      std::stringstream ss(prefix);
      bool found = true;
      for (std::string part; found && std::getline(ss, part, '.');) {
        if (!n->is_object() || !n->contains(part)) found = false;
        else n = &(*n)[part];
      }
      if (!found || !n->is_object()) continue;
      for (const auto& [k, v] : n->items())
        if (v.is_number()) keys.insert(k);
    }
    for (const auto& k : keys) out.push_back(prefix + "." + k);
  }
  return out;
}

// Writes the tables; returns the compile cache's hits and misses over the ok runs.
json write_tables(const SweepOptions& o, const SweepSpec& spec, const std::vector<SweepRun>& runs) {
  std::vector<State> states;
  std::vector<json> reports(runs.size());
  std::vector<json> oks;
  std::vector<std::string> errors(runs.size());
  for (size_t i = 0; i < runs.size(); ++i) {
    const Paths p(o.out_dir, runs[i].id);
    states.push_back(state_of(p));
    if (states.back() == State::ok) {
      try {
        reports[i] = json::parse(read_text(p.report().string()));
        oks.push_back(reports[i]);
      } catch (const std::exception& e) {
        states.back() = State::failed;
        errors[i] = "report.json: " + std::string(e.what());
      }
    } else if (states.back() == State::failed) {
      try {
        errors[i] = json::parse(read_text(p.failed().string())).value("error", std::string());
      } catch (const std::exception&) {
        errors[i] = "failed (failed.json unreadable)";
      }
    }
  }
  const std::vector<std::string> figures = expand_figures(spec.collect, oks);
  size_t hits = 0, misses = 0;  // of the compile cache, over the ok runs' reports
  for (const json& r : oks) {
    const std::string c = r.contains("cache") ? r["cache"].value("compile", std::string()) : std::string();
    hits += c == "hit";
    misses += c.rfind("miss", 0) == 0;
  }
  const auto model_name = [](const std::string& m) { return fs::path(m).filename().string(); };
  const char* state_name[] = {"not_run", "ok", "failed"};

  std::ostringstream csv, jsonl;
  csv << "point,model,seed";
  for (const auto& a : spec.axes) csv << "," << csv_cell(a);
  csv << ",status";
  for (const auto& f : figures) csv << "," << csv_cell(f);
  csv << ",error,report\n";
  for (size_t i = 0; i < runs.size(); ++i) {
    const SweepRun& r = runs[i];
    const bool ok = states[i] == State::ok;
    csv << r.id << "," << csv_cell(model_name(r.model)) << "," << r.seed;
    json axes = json::object(), figs = json::object();
    for (const auto& a : spec.axes) {
      const std::string& v = r.axis_values.at(a);
      csv << "," << csv_cell(v);
      axes[a] = v;
    }
    csv << "," << state_name[static_cast<int>(states[i])];
    for (const auto& f : figures) {
      const double v = ok ? figure(reports[i], f) : NAN;
      csv << ",";
      if (std::isfinite(v)) {
        csv << number_text(v);
        figs[f] = v;
      }
    }
    const std::string report_rel = ok ? "points/" + r.id + "/report.json" : std::string();
    csv << "," << csv_cell(errors[i]) << "," << report_rel << "\n";
    json line = {{"point", r.id},          {"design_point", r.point + 1},
                 {"model", model_name(r.model)}, {"seed", r.seed},
                 {"axes", axes},           {"status", state_name[static_cast<int>(states[i])]},
                 {"figures", figs},        {"error", errors[i]},
                 {"report", report_rel}};
    jsonl << line.dump() << "\n";
  }

  // One row per design point and model, over its seeds.
  std::ostringstream sum;
  sum << "model";
  for (const auto& a : spec.axes) sum << "," << csv_cell(a);
  sum << ",runs,ok";
  for (const auto& f : figures)
    sum << "," << csv_cell(f + ".mean") << "," << csv_cell(f + ".std") << "," << csv_cell(f + ".ci95_low") << ","
        << csv_cell(f + ".ci95_high");
  sum << "\n";
  std::map<std::pair<size_t, std::string>, std::vector<size_t>> groups;
  std::vector<std::pair<size_t, std::string>> order;
  for (size_t i = 0; i < runs.size(); ++i) {
    const auto key = std::make_pair(runs[i].point, runs[i].model);
    if (!groups.count(key)) order.push_back(key);
    groups[key].push_back(i);
  }
  for (const auto& key : order) {
    const std::vector<size_t>& members = groups[key];
    const SweepRun& first = runs[members.front()];
    size_t n_ok = 0;
    for (size_t i : members) n_ok += states[i] == State::ok;
    sum << csv_cell(model_name(first.model));
    for (const auto& a : spec.axes) sum << "," << csv_cell(first.axis_values.at(a));
    sum << "," << members.size() << "," << n_ok;
    for (const auto& f : figures) {
      std::vector<double> v;
      for (size_t i : members)
        if (states[i] == State::ok && std::isfinite(figure(reports[i], f))) v.push_back(figure(reports[i], f));
      const SeedStats s = seed_stats(v);
      sum << "," << (s.n ? number_text(s.mean) : "");
      if (s.spread)
        sum << "," << number_text(s.std) << "," << number_text(s.ci95_low) << "," << number_text(s.ci95_high);
      else
        sum << ",,,";
    }
    sum << "\n";
  }

  size_t n_ok = 0, n_failed = 0;
  for (State s : states) {
    n_ok += s == State::ok;
    n_failed += s == State::failed;
  }
  std::vector<std::string> models;
  for (const auto& m : spec.models) models.push_back(model_name(m));
  const json meta = {{"format", "aimc-sweep"},
                     {"version", 1},
                     {"spec", spec.file},
                     {"platform", spec.platform},
                     {"models", models},
                     {"seeds", spec.seeds},
                     {"axes", spec.axes},
                     {"figures", figures},
                     {"points", spec.points.size()},
                     {"runs", runs.size()},
                     {"ok", n_ok},
                     {"failed", n_failed},
                     {"not_run", runs.size() - n_ok - n_failed},
                     {"compile_cache", {{"hits", hits}, {"misses", misses}}},
                     {"tables", {{"results", "results.csv"}, {"results_jsonl", "results.jsonl"}, {"summary", "summary.csv"}}},
                     {"units", "figure names carry their unit: _j joules, _ns nanoseconds, _mm2 square millimetres, "
                               "_w watts, _s seconds, _per_s per second; accuracy and agreement are fractions"}};
  const fs::path d(o.out_dir);
  io::write_file_atomically((d / "results.csv").string(), csv.str(), io::Folders::create);
  io::write_file_atomically((d / "results.jsonl").string(), jsonl.str(), io::Folders::create);
  io::write_file_atomically((d / "summary.csv").string(), sum.str(), io::Folders::create);
  io::write_file_atomically((d / "sweep.json").string(), meta.dump(2) + "\n", io::Folders::create);
  return meta["compile_cache"];
}

}  // namespace

int sweep_job(const SweepOptions& o) {
  const SweepSpec spec = read_sweep_spec(o.spec_path, o.lookup);
  const std::string exe = o.aimc_exe.empty() ? this_executable() : o.aimc_exe;
  // A rebuilt tool may compute other figures: the executable's bytes are part of every run's id.
  const std::string version = o.version + " " + [&exe] {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(num::fnv1a64(read_text(exe))));
    return std::string(buf);
  }();
  const std::vector<SweepRun> runs = expand_sweep(spec, version);

  std::error_code ec;
  fs::create_directories(fs::path(o.out_dir) / "points", ec);
  if (ec) throw UserError("-o " + o.out_dir + ": cannot make the folder: " + ec.message());
  std::vector<size_t> todo;
  size_t done_before = 0;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (state_of(Paths(o.out_dir, runs[i].id)) == State::ok) ++done_before;
    else todo.push_back(i);
  }
  const int jobs = o.jobs > 0 ? o.jobs : std::max(1u, std::thread::hardware_concurrency());
  std::cerr << "aimc sweep: " << spec.points.size() << " point(s) x " << spec.models.size() << " model(s) x "
            << spec.seeds.size() << " seed(s) = " << runs.size() << " run(s); " << done_before
            << " already done in " << o.out_dir << ", " << todo.size() << " to run"
            << (o.dry_run ? " (dry run)" : " with -j " + std::to_string(jobs)) << "\n";
  if (o.dry_run) {
    for (size_t i = 0; i < runs.size(); ++i) {
      const State s = state_of(Paths(o.out_dir, runs[i].id));
      std::cout << runs[i].id << "  " << (s == State::ok ? "done   " : s == State::failed ? "failed " : "to run ")
                << describe(runs[i]) << "\n";
    }
    return 0;
  }
  io::write_file_atomically((fs::path(o.out_dir) / "spec.yaml").string(), read_text(spec.file), io::Folders::create);

  struct Running {
    size_t run;
    Clock::time_point started;
  };
  std::map<pid_t, Running> running;
  size_t next = 0, finished = 0, ok = 0, failed = 0;
  double busy_s = 0;  // wall time of the finished runs, for the ETA
  const bool tty = o.progress && ::isatty(2);
  const auto t0 = Clock::now();
  const auto progress = [&](const std::string& line) {
    if (!o.progress) return;
    const size_t left = todo.size() - finished;
    const double eta = finished ? busy_s / static_cast<double>(finished) * static_cast<double>(left) /
                                      static_cast<double>(std::min<size_t>(static_cast<size_t>(jobs), std::max<size_t>(left, 1)))
                                : NAN;
    std::ostringstream s;
    s << "[" << finished << "/" << todo.size() << "] " << ok << " ok, " << failed << " failed, " << running.size()
      << " running, elapsed " << clock_text(std::chrono::duration<double>(Clock::now() - t0).count())
      << ", ETA " << (left == 0 ? "0s" : clock_text(eta));
    if (tty) std::cerr << "\r\033[K" << (line.empty() ? "" : line + "\n") << "aimc sweep: " << s.str() << std::flush;
    else if (!line.empty()) std::cerr << "aimc sweep: " << s.str() << ": " << line << "\n";
  };
  int stop_signal = 0;
  while (next < todo.size() || !running.empty()) {
    if (!stop_signal && (stop_signal = stop_requested()) != 0) {
      for (const auto& [pid, r] : running) ::kill(pid, stop_signal);  // they stop at a command boundary
      progress("stopping: " + std::string(signal_name(stop_signal)) + " (the runs under way end early)");
    }
    while (!stop_signal && next < todo.size() && running.size() < static_cast<size_t>(jobs)) {
      const SweepRun& r = runs[todo[next]];
      const Paths p(o.out_dir, r.id);
      fs::create_directories(p.dir, ec);
      fs::remove(p.done(), ec);
      fs::remove(p.failed(), ec);
      const std::vector<std::string> argv = run_argv(o, spec, r, exe);
      std::string cmd;
      for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + shell_quote(a);
      io::write_file_atomically((p.dir / "cmd.txt").string(), cmd + "\n", io::Folders::create);
      std::string error;
      const pid_t pid = spawn(argv, p.log(), error);
      if (pid < 0) {
        io::write_file_atomically(p.failed().string(), json({{"id", r.id}, {"error", error}}).dump(2) + "\n",
                                  io::Folders::create);
        ++finished;
        ++failed;
        progress("failed " + r.id + " " + describe(r) + ": " + error);
      } else {
        running[pid] = {todo[next], Clock::now()};
      }
      ++next;
    }
    if (running.empty()) break;
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid == 0 || (pid < 0 && errno == EINTR)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    if (pid < 0) break;  // no child left (ECHILD)
    const auto it = running.find(pid);
    if (it == running.end()) continue;
    const SweepRun& r = runs[it->second.run];
    const double secs = std::chrono::duration<double>(Clock::now() - it->second.started).count();
    running.erase(it);
    const Paths p(o.out_dir, r.id);
    bool interrupted = false, report_ok = false;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      try {
        const json rep = json::parse(read_text(p.report().string()));
        interrupted = rep.value("interrupted", false);
        report_ok = true;
      } catch (const std::exception&) {
      }
    }
    const bool by_stop = stop_signal && (interrupted || (WIFEXITED(status) && WEXITSTATUS(status) >= 128) ||
                                         WIFSIGNALED(status));
    if (by_stop) {  // not a result: it runs again when the sweep is resumed
      fs::remove(p.report(), ec);
      continue;
    }
    ++finished;
    busy_s += secs;
    json marker = {{"id", r.id}, {"model", fs::path(r.model).filename().string()}, {"seed", r.seed},
                   {"settings", r.overrides}, {"axes", r.axis_values}, {"seconds", secs}};
    if (report_ok && !interrupted) {
      marker["status"] = "ok";
      io::write_file_atomically(p.done().string(), marker.dump(2) + "\n", io::Folders::create);
      ++ok;
      progress(tty ? std::string() : "ok " + r.id + " " + describe(r) + " (" + clock_text(secs) + ")");
    } else {
      marker["status"] = "failed";
      marker["error"] = report_ok ? std::string("the run was interrupted") : error_of(p.log(), status);
      io::write_file_atomically(p.failed().string(), marker.dump(2) + "\n", io::Folders::create);
      ++failed;
      progress("failed " + r.id + " " + describe(r) + ": " + marker["error"].get<std::string>() + " (log: " +
               p.log().string() + ")");
    }
  }
  if (tty) std::cerr << "\n";
  const json cache = write_tables(o, spec, runs);
  size_t n_failed = 0, n_ok = 0;
  for (const auto& r : runs) {
    const State s = state_of(Paths(o.out_dir, r.id));
    n_ok += s == State::ok;
    n_failed += s == State::failed;
  }
  std::cerr << "aimc sweep: " << n_ok << " of " << runs.size() << " run(s) ok, " << n_failed << " failed"
            << (runs.size() - n_ok - n_failed ? ", " + std::to_string(runs.size() - n_ok - n_failed) + " not run" : "")
            << "; tables in " << o.out_dir << " (results.csv, summary.csv, results.jsonl, sweep.json)\n";
  if (o.cache)
    std::cerr << "aimc sweep: compile cache: " << cache["hits"].get<size_t>() << " hit(s), "
              << cache["misses"].get<size_t>() << " compile(s) (" << (fs::path(o.out_dir) / "cache" / "compile").string()
              << ")\n";
  if (stop_signal) {
    std::cerr << "aimc sweep: stopped by " << signal_name(stop_signal) << "; run it again to resume\n";
    return 128 + stop_signal;
  }
  return n_failed ? 1 : 0;
}

}  // namespace aimc::app
