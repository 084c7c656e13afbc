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

// The `aimc run` of one run, every path absolute (a Slurm task may start in another folder).
std::vector<std::string> run_argv(const SweepOptions& o, const SweepSpec& spec, const SweepRun& r,
                                  const std::string& exe) {
  const auto abs = [](const std::string& path) { return fs::absolute(path).lexically_normal().string(); };
  const Paths p(abs(o.out_dir), r.id);
  std::vector<std::string> a = {exe, "run", "--platform", abs(spec.platform), "--model", abs(r.model),
                                "--seed", std::to_string(r.seed), "--no-progress", "-q",
                                "--report", p.report().string()};
  if (!spec.data.empty()) a.insert(a.end(), {"--data", abs(spec.data)});
  if (!spec.input.empty()) a.insert(a.end(), {"--input", spec.input == "random" ? spec.input : abs(spec.input)});
  if (spec.limit > 0) a.insert(a.end(), {"--limit", std::to_string(spec.limit)});
  for (const auto& kv : r.overrides) a.insert(a.end(), {"--set", kv});
  if (o.cache)
    a.insert(a.end(), {"--compile-cache", abs((fs::path(o.out_dir) / "cache" / "compile").string()),
                       "--program-cache", abs((fs::path(o.out_dir) / "cache" / "program").string())});
  a.insert(a.end(), spec.run_options.begin(), spec.run_options.end());
  a.insert(a.end(), r.run_options.begin(), r.run_options.end());
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
  std::istringstream in(io::read_file_or_empty(log.string()));
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

// Writes the tables; returns the caches' hits and misses over the ok runs (sweep.json's
// compile_cache and program_cache).
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
        reports[i] = json::parse(io::read_file_or_empty(p.report().string()));
        oks.push_back(reports[i]);
      } catch (const std::exception& e) {
        states.back() = State::failed;
        errors[i] = "report.json: " + std::string(e.what());
      }
    } else if (states.back() == State::failed) {
      try {
        errors[i] = json::parse(io::read_file_or_empty(p.failed().string())).value("error", std::string());
      } catch (const std::exception&) {
        errors[i] = "failed (failed.json unreadable)";
      }
    }
  }
  const std::vector<std::string> figures = expand_figures(spec.collect, oks);
  size_t hits = 0, misses = 0;  // of the compile cache, over the ok runs' reports
  long program_hits = 0, program_misses = 0;  // program-and-verify calls, likewise
  for (const json& r : oks) {
    const std::string c = r.contains("cache") ? r["cache"].value("compile", std::string()) : std::string();
    hits += c == "hit";
    misses += c.rfind("miss", 0) == 0;
    if (r.contains("cache") && r["cache"].contains("program")) {
      program_hits += r["cache"]["program"].value("hits", 0L);
      program_misses += r["cache"]["program"].value("misses", 0L) + r["cache"]["program"].value("unstored", 0L);
    }
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
  std::vector<std::string> models;  // the models the runs use, in order of first use
  for (const SweepRun& r : runs)
    if (std::find(models.begin(), models.end(), model_name(r.model)) == models.end()) models.push_back(model_name(r.model));
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
                     {"program_cache", {{"hits", program_hits}, {"misses", program_misses}}},
                     {"tables", {{"results", "results.csv"}, {"results_jsonl", "results.jsonl"}, {"summary", "summary.csv"}}},
                     {"units", "figure names carry their unit: _j joules, _ns nanoseconds, _mm2 square millimetres, "
                               "_w watts, _s seconds, _per_s per second; accuracy and agreement are fractions"}};
  const fs::path d(o.out_dir);
  io::write_file_atomically((d / "results.csv").string(), csv.str(), io::Folders::create);
  io::write_file_atomically((d / "results.jsonl").string(), jsonl.str(), io::Folders::create);
  io::write_file_atomically((d / "summary.csv").string(), sum.str(), io::Folders::create);
  io::write_file_atomically((d / "sweep.json").string(), meta.dump(2) + "\n", io::Folders::create);
  return {{"compile_cache", meta["compile_cache"]}, {"program_cache", meta["program_cache"]}};
}

// Runs a command and returns its standard output; `rc` gets its exit status (-1 when it could not
// run). Arguments are quoted for the shell.
std::string capture(const std::vector<std::string>& argv, int& rc) {
  std::string cmd;
  for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + shell_quote(a);
  cmd += " 2>&1";
  FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) {
    rc = -1;
    return {};
  }
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
  const int st = ::pclose(f);
  rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(ss, dir, ':');)
    if (!dir.empty() && ::access((fs::path(dir) / program).c_str(), X_OK) == 0) return true;
  return false;
}

// One sweep's runs on one backend: prepares each run's folder, starts the runs, turns their exit
// into done.json or failed.json, and shows the progress.
class Runner {
 public:
  Runner(const SweepOptions& o, const SweepSpec& spec, const std::vector<SweepRun>& runs, std::vector<size_t> todo,
         std::string exe, int jobs)
      : o_(o), spec_(spec), runs_(runs), todo_(std::move(todo)), exe_(std::move(exe)), jobs_(jobs),
        tty_(o.progress && ::isatty(2)), t0_(Clock::now()) {}

  // Returns the signal that stopped it, or 0.
  int run_local();
  int run_slurm();

 private:
  // The run's folder made ready, its command in cmd.txt; returns the command.
  std::vector<std::string> prepare(const SweepRun& r) {
    const Paths p(o_.out_dir, r.id);
    std::error_code ec;
    fs::create_directories(p.dir, ec);
    for (const fs::path& f : {p.done(), p.failed(), p.dir / "exit_code"}) fs::remove(f, ec);
    const std::vector<std::string> argv = run_argv(o_, spec_, r, exe_);
    io::write_file_atomically((p.dir / "cmd.txt").string(), command_text(argv) + "\n", io::Folders::create);
    return argv;
  }
  static std::string command_text(const std::vector<std::string>& argv) {
    std::string cmd;
    for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + shell_quote(a);
    return cmd;
  }
  // Records how a run ended (`status` as waitpid gives it). A run that a stop request ended is no
  // result: nothing is recorded and a resumed sweep runs it again.
  void finish(const SweepRun& r, int status, double secs, int stop_signal) {
    const Paths p(o_.out_dir, r.id);
    bool interrupted = false, report_ok = false;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      try {
        const json rep = json::parse(io::read_file_or_empty(p.report().string()));
        interrupted = rep.value("interrupted", false);
        report_ok = true;
      } catch (const std::exception&) {
      }
    }
    std::error_code ec;
    if (stop_signal && (interrupted || (WIFEXITED(status) && WEXITSTATUS(status) >= 128) || WIFSIGNALED(status))) {
      fs::remove(p.report(), ec);
      return;
    }
    ++finished_;
    busy_s_ += secs;
    json marker = {{"id", r.id}, {"model", fs::path(r.model).filename().string()}, {"seed", r.seed},
                   {"settings", r.overrides}, {"axes", r.axis_values}, {"seconds", secs}};
    if (report_ok && !interrupted) {
      marker["status"] = "ok";
      io::write_file_atomically(p.done().string(), marker.dump(2) + "\n", io::Folders::create);
      ++ok_;
      progress(tty_ ? std::string()
                    : "ok " + r.id + " " + describe(r) + (rate_eta_ ? std::string() : " (" + clock_text(secs) + ")"));
    } else {
      fail(r, report_ok ? std::string("the run was interrupted") : error_of(p.log(), status), secs);
    }
  }
  void fail(const SweepRun& r, const std::string& error, double secs = 0) {
    const Paths p(o_.out_dir, r.id);
    json marker = {{"id", r.id}, {"model", fs::path(r.model).filename().string()}, {"seed", r.seed},
                   {"settings", r.overrides}, {"axes", r.axis_values}, {"seconds", secs},
                   {"status", "failed"}, {"error", error}};
    io::write_file_atomically(p.failed().string(), marker.dump(2) + "\n", io::Folders::create);
    ++failed_;
    progress("failed " + r.id + " " + describe(r) + ": " + error + " (log: " + p.log().string() + ")");
  }
  void progress(const std::string& line) {
    if (!o_.progress) return;
    const size_t left = todo_.size() - finished_;
    const size_t workers = std::min<size_t>(static_cast<size_t>(jobs_), std::max<size_t>(left, 1));
    const double elapsed = std::chrono::duration<double>(Clock::now() - t0_).count();
    // The local pool knows each run's time; a Slurm array only how many have finished so far.
    const double eta = !finished_ ? NAN
                       : rate_eta_ ? elapsed / static_cast<double>(finished_) * static_cast<double>(left)
                                   : busy_s_ / static_cast<double>(finished_) * static_cast<double>(left) /
                                         static_cast<double>(workers);
    std::ostringstream s;
    s << "[" << finished_ << "/" << todo_.size() << "] " << ok_ << " ok, " << failed_ << " failed, " << running_
      << " running, elapsed " << clock_text(elapsed) << ", ETA "
      << (left == 0 ? "0s" : clock_text(eta));
    if (tty_) std::cerr << "\r\033[K" << (line.empty() ? "" : line + "\n") << "aimc sweep: " << s.str() << std::flush;
    else if (!line.empty()) std::cerr << "aimc sweep: " << s.str() << ": " << line << "\n";
  }
  void end_progress() {
    if (tty_) std::cerr << "\n";
  }

  const SweepOptions& o_;
  const SweepSpec& spec_;
  const std::vector<SweepRun>& runs_;
  std::vector<size_t> todo_;
  std::string exe_;
  int jobs_;
  bool tty_;
  Clock::time_point t0_;
  size_t finished_ = 0, ok_ = 0, failed_ = 0, running_ = 0;
  double busy_s_ = 0;  // wall time of the finished runs, for the ETA
  bool rate_eta_ = false;  // the ETA from the rate of finished runs (Slurm: no run times)
};

int Runner::run_local() {
  struct Running {
    size_t run;
    Clock::time_point started;
  };
  std::map<pid_t, Running> running;
  size_t next = 0;
  int stop_signal = 0;
  while (next < todo_.size() || !running.empty()) {
    if (!stop_signal && (stop_signal = stop_requested()) != 0) {
      for (const auto& [pid, r] : running) ::kill(pid, stop_signal);  // they stop at a command boundary
      progress("stopping: " + std::string(signal_name(stop_signal)) + " (the runs under way end early)");
    }
    while (!stop_signal && next < todo_.size() && running.size() < static_cast<size_t>(jobs_)) {
      const SweepRun& r = runs_[todo_[next]];
      const std::vector<std::string> argv = prepare(r);
      std::string error;
      const pid_t pid = spawn(argv, Paths(o_.out_dir, r.id).log(), error);
      if (pid < 0) {
        ++finished_;
        fail(r, error);
      } else {
        running[pid] = {todo_[next], Clock::now()};
        running_ = running.size();
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
    const Running done = it->second;
    running.erase(it);
    running_ = running.size();
    finish(runs_[done.run], status, std::chrono::duration<double>(Clock::now() - done.started).count(), stop_signal);
  }
  end_progress();
  return stop_signal;
}

// The runs as a Slurm job array: each array task runs a chunk of runs, one after the other, from
// a shell script in DIR/slurm/<job>/, and writes each run's exit code beside its report; this
// process waits for the array (squeue), then records the runs as the local pool does. DIR must be
// on a filesystem the compute nodes share, at the same path (docs/sweeps.md, "On a cluster").
int Runner::run_slurm() {
  if (todo_.empty()) return 0;
  rate_eta_ = true;
  if (!on_path("sbatch") || !on_path("squeue") || !on_path("scancel"))
    throw UserError("--backend slurm: sbatch, squeue and scancel must be on PATH (Debian: slurm-client)");
  const size_t per_task = o_.slurm_chunk > 0 ? static_cast<size_t>(o_.slurm_chunk)
                                             : std::max<size_t>(1, (todo_.size() + 999) / 1000);
  const size_t tasks = (todo_.size() + per_task - 1) / per_task;
  const fs::path out = fs::absolute(o_.out_dir).lexically_normal();
  // A folder per submission: the scripts and the tasks' own logs.
  fs::path sub;
  for (int k = 1;; ++k) {
    sub = out / "slurm" / ("submission-" + std::to_string(k));
    if (!fs::exists(sub)) break;
  }
  fs::create_directories(sub);
  for (size_t t = 0; t < tasks; ++t) {
    std::ostringstream sh;
    sh << "#!/bin/sh\n# aimc sweep: array task " << t << " of " << tasks << "\n";
    for (size_t k = t * per_task; k < std::min(todo_.size(), (t + 1) * per_task); ++k) {
      const SweepRun& r = runs_[todo_[k]];
      const Paths p(out.string(), r.id);
      const std::vector<std::string> argv = prepare(r);
      const std::string code = (p.dir / "exit_code").string();
      sh << command_text(argv) << " >" << shell_quote(p.log().string()) << " 2>&1; echo $? >"
         << shell_quote(code + ".tmp") << " && mv " << shell_quote(code + ".tmp") << " " << shell_quote(code) << "\n";
    }
    io::write_file_atomically((sub / ("task-" + std::to_string(t) + ".sh")).string(), sh.str(), io::Folders::create);
  }
  io::write_file_atomically((sub / "job.sh").string(),
                            "#!/bin/sh\nexec /bin/sh " + shell_quote((sub / "task-").string()) +
                                "\"$SLURM_ARRAY_TASK_ID\".sh\n",
                            io::Folders::create);
  std::vector<std::string> sbatch = {"sbatch", "--parsable", "--job-name=aimc-sweep",
                                     "--array=0-" + std::to_string(tasks - 1),
                                     "--output=" + (sub / "task-%a.log").string(), "--chdir=" + out.string()};
  if (!o_.slurm_partition.empty()) sbatch.push_back("--partition=" + o_.slurm_partition);
  if (!o_.slurm_time.empty()) sbatch.push_back("--time=" + o_.slurm_time);
  if (!o_.slurm_account.empty()) sbatch.push_back("--account=" + o_.slurm_account);
  sbatch.insert(sbatch.end(), o_.slurm_args.begin(), o_.slurm_args.end());
  sbatch.push_back((sub / "job.sh").string());
  int rc = 0;
  std::string answer = capture(sbatch, rc);
  while (!answer.empty() && (answer.back() == '\n' || answer.back() == '\r')) answer.pop_back();
  const std::string job = answer.substr(0, answer.find(';'));  // "ID" or "ID;CLUSTER"
  if (rc != 0 || job.empty() || job.find_first_not_of("0123456789") != std::string::npos)
    throw UserError("--backend slurm: sbatch refused the job array: " + (answer.empty() ? "exit code " + std::to_string(rc) : answer));
  io::write_file_atomically((sub / "job_id").string(), job + "\n", io::Folders::create);
  std::cerr << "aimc sweep: Slurm job " << job << ": " << tasks << " array task(s) of up to " << per_task
            << " run(s) (" << sub.string() << ")\n";

  std::vector<bool> seen(todo_.size(), false);
  int stop_signal = 0;
  const auto collect = [&](bool final) {
    for (size_t k = 0; k < todo_.size(); ++k) {
      if (seen[k]) continue;
      const SweepRun& r = runs_[todo_[k]];
      const Paths p(out.string(), r.id);
      const std::string code_text = io::read_file_or_empty((p.dir / "exit_code").string());
      if (code_text.empty()) {
        if (final && !stop_signal) {
          seen[k] = true;
          ++finished_;
          fail(r, "no result: its array task ended before it (time limit, node failure or scancel?); see " +
                      (sub / "task-*.log").string());
        }
        continue;
      }
      seen[k] = true;
      const int code = std::atoi(code_text.c_str());
      finish(r, code >= 128 ? (code - 128) : code << 8, 0, stop_signal);
    }
  };
  for (;;) {
    if (!stop_signal && (stop_signal = stop_requested()) != 0) {
      capture({"scancel", job}, rc);
      progress("stopping: " + std::string(signal_name(stop_signal)) + ": scancel " + job);
    }
    collect(false);
    const std::string q = capture({"squeue", "-h", "-j", job, "-o", "%i"}, rc);
    if (rc != 0 && q.find("Invalid job id") == std::string::npos) {
      progress("squeue failed (" + q + "); asking again");
    } else if (rc != 0 || q.find_first_not_of(" \n") == std::string::npos) {
      break;  // the array has left the queue
    }
    running_ = static_cast<size_t>(std::count(q.begin(), q.end(), '\n'));
    std::this_thread::sleep_for(std::chrono::milliseconds(o_.slurm_poll_ms));
  }
  running_ = 0;
  collect(true);
  end_progress();
  return stop_signal;
}

}  // namespace

int sweep_job(const SweepOptions& o) {
  const SweepSpec spec = read_sweep_spec(o.spec_path, o.lookup);
  const std::string exe = o.aimc_exe.empty() ? this_executable() : o.aimc_exe;
  // A rebuilt tool may compute other figures: the executable's bytes are part of every run's id.
  const std::string version = o.version + " " + [&exe] {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(num::fnv1a64(io::read_file_or_empty(exe))));
    return std::string(buf);
  }();
  const std::vector<SweepRun> runs = expand_sweep(spec, version);
  if (o.backend != "local" && o.backend != "slurm")
    throw UserError("--backend " + o.backend + ": expected local or slurm");

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
  std::set<std::string> models_used;
  for (const SweepRun& r : runs) models_used.insert(r.model);
  std::cerr << "aimc sweep: " << spec.points.size() << " point(s), " << models_used.size() << " model(s), "
            << spec.seeds.size() << " seed(s): " << runs.size() << " run(s); " << done_before
            << " already done in " << o.out_dir << ", " << todo.size() << " to run"
            << (o.dry_run ? std::string(" (dry run)")
                : o.backend == "slurm" ? std::string(" on Slurm")
                                       : " with -j " + std::to_string(jobs))
            << "\n";
  if (o.dry_run) {
    for (size_t i = 0; i < runs.size(); ++i) {
      const State s = state_of(Paths(o.out_dir, runs[i].id));
      std::cout << runs[i].id << "  " << (s == State::ok ? "done   " : s == State::failed ? "failed " : "to run ")
                << describe(runs[i]) << "\n";
    }
    return 0;
  }
  io::write_file_atomically((fs::path(o.out_dir) / "spec.yaml").string(), io::read_file_or_empty(spec.file), io::Folders::create);

  Runner runner(o, spec, runs, todo, exe, o.backend == "slurm" ? 1 : jobs);
  const int stop_signal = o.backend == "slurm" ? runner.run_slurm() : runner.run_local();
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
  if (o.cache) {
    std::cerr << "aimc sweep: compile cache: " << cache["compile_cache"]["hits"].get<size_t>() << " hit(s), "
              << cache["compile_cache"]["misses"].get<size_t>() << " compile(s) ("
              << (fs::path(o.out_dir) / "cache" / "compile").string() << ")\n";
    std::cerr << "aimc sweep: program cache: " << cache["program_cache"]["hits"].get<long>()
              << " program-and-verify call(s) reused, " << cache["program_cache"]["misses"].get<long>()
              << " programmed (" << (fs::path(o.out_dir) / "cache" / "program").string() << ")\n";
  }
  if (stop_signal) {
    std::cerr << "aimc sweep: stopped by " << signal_name(stop_signal) << "; run it again to resume\n";
    return 128 + stop_signal;
  }
  return n_failed ? 1 : 0;
}

}  // namespace aimc::app
