// The trace writers' registry, the VCD writer and the CSV writer, on small hand-built stores
// (exact bytes, derived by hand in the comments) and on random stores (properties: time order,
// every variable used, busy edges where the spans say, one CSV row per event).
#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sim/trace_store.h"
#include "sim/trace_writers.h"

using aimc::sim::choose_trace_format;
using aimc::sim::find_trace_format;
using aimc::sim::trace_format_for_path;
using aimc::sim::TraceFormatError;
using aimc::sim::TraceStore;

namespace {

std::string written(const char* format, const TraceStore& store) {
  const auto* f = find_trace_format(format);
  EXPECT_NE(f, nullptr) << format;
  return f ? f->make()->to_string(store) : std::string();
}

// Three tracks: the host has only signals (and an instant), the bus two overlapping transfers
// and a counter, tile0 a parent span with a nested child and a back-to-back second span.
void record_tiny(TraceStore& s) {
  s.set_metadata("platform", "tiny");
  const int host = s.track("host");
  const int bus = s.track("bus");
  const int tile0 = s.track("tile0");
  s.signal(host, "irq", 0, 0);
  s.signal(host, "power_state", 0, 0, 2);
  s.span(tile0, "mvm", 1000, 500, {{"layer", "fc,\"1\""}, {"energy_pj", 1.5}});
  s.span(tile0, "dac", 1000, 100);
  s.span(tile0, "mvm", 1500, 200, {{"layer", 1}});
  s.span(bus, "wr sram", 200, 300, {{"bytes", 64}});
  s.span(bus, "rd sram", 300, 400, {{"bytes", 16}});
  s.counter(bus, "queue", 300, 1);
  s.counter(bus, "queue", 700, 0);
  s.instant(host, "irq done", 1700);
  s.signal(host, "irq", 1700, 1);
  s.signal(host, "power_state", 1800, 1, 2);
}

// Minimal VCD reader for the property tests: declared ids and, per id, (time, value) changes.
struct Vcd {
  std::map<std::string, std::string> name_of;  // id -> scope.name
  std::map<std::string, std::vector<std::pair<uint64_t, std::string>>> changes;
  std::vector<uint64_t> times;
};

Vcd parse_vcd(const std::string& text) {
  Vcd v;
  std::istringstream in(text);
  std::string tok;
  std::vector<std::string> scope;
  bool body = false;
  uint64_t now = 0;
  while (in >> tok) {
    if (tok == "$scope") {
      std::string kind, name;
      in >> kind >> name >> tok;
      scope.push_back(name);
    } else if (tok == "$upscope") {
      in >> tok;
      scope.pop_back();
    } else if (tok == "$var") {
      std::string type, size, id, name;
      in >> type >> size >> id >> name >> tok;
      v.name_of[id] = scope.back() + "." + name;
    } else if (tok == "$enddefinitions") {
      in >> tok;
      body = true;
    } else if (!body) {
      continue;  // header text
    } else if (tok == "$dumpvars" || tok == "$end") {
      continue;
    } else if (tok[0] == '#') {
      now = std::stoull(tok.substr(1));
      v.times.push_back(now);
    } else if (tok[0] == 'r' || tok[0] == 'b') {
      std::string id;
      in >> id;
      v.changes[id].emplace_back(now, tok.substr(1));
    } else {
      v.changes[tok.substr(1)].emplace_back(now, tok.substr(0, 1));
    }
  }
  return v;
}

}  // namespace

// ---- Registry --------------------------------------------------------------------------------

TEST(TraceFormats, ByNameAndByExtension) {
  ASSERT_NE(find_trace_format("chrome"), nullptr);
  ASSERT_NE(find_trace_format("vcd"), nullptr);
  ASSERT_NE(find_trace_format("csv"), nullptr);
  EXPECT_EQ(find_trace_format("perfetto"), nullptr);
  EXPECT_EQ(trace_format_for_path("out/run.json"), find_trace_format("chrome"));
  EXPECT_EQ(trace_format_for_path("run.VCD"), find_trace_format("vcd"));
  EXPECT_EQ(trace_format_for_path("a.b/run.csv"), find_trace_format("csv"));
  EXPECT_EQ(trace_format_for_path("run.txt"), nullptr);
  EXPECT_EQ(trace_format_for_path("out.d/run"), nullptr);
  EXPECT_EQ(aimc::sim::trace_format_list(), "chrome (.json), vcd (.vcd), csv (.csv)");
  for (const auto* f : aimc::sim::trace_formats()) {
    EXPECT_FALSE(f->description.empty()) << f->name;
    EXPECT_NE(f->make(), nullptr) << f->name;
  }
}

TEST(TraceFormats, OptionOverridesTheExtension) {
  EXPECT_EQ(choose_trace_format("run.json", "").name, "chrome");
  EXPECT_EQ(choose_trace_format("run.json", "csv").name, "csv");
  EXPECT_EQ(choose_trace_format("run.trace", "vcd").name, "vcd");
}

TEST(TraceFormats, UnknownIsRefusedListingTheFormats) {
  for (const auto& [path, name, says] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"run.txt", "", "'.txt' names no trace format"},
           {"run", "", "no file extension"},
           {"run.json", "fst", "unknown format 'fst'"}}) {
    try {
      choose_trace_format(path, name);
      ADD_FAILURE() << path << " / " << name << " was accepted";
    } catch (const TraceFormatError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(says), std::string::npos) << what;
      EXPECT_NE(what.find("chrome (.json), vcd (.vcd), csv (.csv)"), std::string::npos) << what;
    }
  }
}

TEST(TraceFormats, RecordingOffIsTheDisabledSink) {
  aimc::sim::TraceRecording off("", "", 0);
  EXPECT_FALSE(off.on());
  EXPECT_FALSE(off.sink().enabled());
  EXPECT_NO_THROW(off.write());
  aimc::sim::TraceRecording on("x/run.vcd", "", 0);
  EXPECT_TRUE(on.sink().enabled());
  EXPECT_EQ(on.format()->name, "vcd");
  EXPECT_THROW(aimc::sim::TraceRecording("run.txt", "", 0), TraceFormatError);
}

// ---- Store -----------------------------------------------------------------------------------

TEST(TraceStore, SignalsAreCheckedAndBudgetedApart) {
  TraceStore s(2);
  const int t = s.track("host");
  EXPECT_THROW(s.signal(t, "power_state", 0, 4, 2), std::invalid_argument);  // 4 needs 3 bits
  EXPECT_THROW(s.signal(t, "wide", 0, 1, 65), std::invalid_argument);
  EXPECT_THROW(s.signal(7, "irq", 0, 1), std::invalid_argument);
  s.signal(t, "all", 0, ~uint64_t{0}, 64);
  for (int i = 0; i < 3; ++i) s.signal(t, "irq", 10 * i, i % 2);
  for (int i = 0; i < 3; ++i) s.span(t, "dma", 10 * i, 5);
  EXPECT_EQ(s.signals().size(), 2u);
  EXPECT_EQ(s.dropped_signals(), 2u);
  EXPECT_EQ(s.event_count(), 2u);  // the signals did not use the events' budget
  EXPECT_EQ(s.dropped_events(), 1u);
}

TEST(TraceStore, ChromeWriterLeavesSignalsOut) {
  TraceStore with, without;
  for (TraceStore* s : {&with, &without}) {
    const int t = s->track("host");
    s->span(t, "dma", 0, 10);
    if (s == &with) s->signal(t, "irq", 5, 1);
  }
  EXPECT_EQ(written("chrome", with), written("chrome", without));
}

// ---- VCD -------------------------------------------------------------------------------------

// Derived by hand from record_tiny: ids in declaration order (! irq, " power_state, # bus busy,
// $ bytes_in_flight, % queue, & tile0 busy); bus bytes 64 from 200, 80 from 300 (both open), 16
// from 500, 0 from 700; tile0 busy 1000..1700 (dac nested, second mvm back to back: one pulse);
// the instant is not drawn; the last change (1800) is the end of the trace.
TEST(TraceVcd, TinyStoreExactBytes) {
  TraceStore s;
  record_tiny(s);
  const std::string expected =
      "$comment\n  aimc-vp trace (VCD writer, traces/README.md)\n  platform: tiny\n$end\n"
      "$version aimc-vp $end\n$timescale 1ps $end\n"
      "$scope module aimc $end\n"
      "$scope module host $end\n$var wire 1 ! irq $end\n$var wire 2 \" power_state $end\n"
      "$upscope $end\n"
      "$scope module bus $end\n$var wire 1 # busy $end\n$var real 64 $ bytes_in_flight $end\n"
      "$var real 64 % queue $end\n$upscope $end\n"
      "$scope module tile0 $end\n$var wire 1 & busy $end\n$upscope $end\n"
      "$upscope $end\n$enddefinitions $end\n"
      "#0\n$dumpvars\n0!\nb0 \"\n0#\nr0 $\nr0 %\n0&\n$end\n"
      "#200\n1#\nr64 $\n"
      "#300\nr80 $\nr1 %\n"
      "#500\nr16 $\n"
      "#700\n0#\nr0 $\nr0 %\n"
      "#1000\n1&\n"
      "#1700\n1!\n0&\n"
      "#1800\nb1 \"\n";
  EXPECT_EQ(written("vcd", s), expected);
}

TEST(TraceVcd, NamesAreSanitizedAndTheEndIsMarked) {
  TraceStore s;
  const int t = s.track("tile0.digital");
  s.counter(t, "busy", 10, 2.5);  // clashes with the busy wire
  s.span(t, "add", 0, 0);         // zero length: declared, never high
  s.instant(t, "late", 5000);
  s.set_metadata("note", "no $end here");
  const std::string v = written("vcd", s);
  EXPECT_NE(v.find("$scope module tile0_digital $end"), std::string::npos) << v;
  EXPECT_NE(v.find("$var wire 1 ! busy $end\n$var real 64 \" busy_2 $end"), std::string::npos) << v;
  EXPECT_NE(v.find("note: no end here"), std::string::npos) << v;
  EXPECT_NE(v.find("#10\nr2.5 \"\n#5000\n"), std::string::npos) << v;
  EXPECT_EQ(v.find("1!"), std::string::npos) << v;
}

// Random spans on two tiles: time stamps strictly increase, every variable is declared once and
// used, and tile busy is high exactly where some span of positive length is open.
TEST(TraceVcd, RandomSpansGiveBusyWhereTheyAreOpen) {
  std::mt19937 rng(7);
  TraceStore s;
  const int tiles[2] = {s.track("tile0"), s.track("tile1")};
  std::vector<std::vector<std::pair<uint64_t, uint64_t>>> open(2);
  for (int i = 0; i < 400; ++i) {
    const int k = static_cast<int>(rng() % 2);
    const uint64_t t = rng() % 20000, dur = rng() % 7 == 0 ? 0 : rng() % 300;
    s.span(tiles[k], i % 3 ? "mvm" : "adc", t, dur, {{"bytes", static_cast<int>(rng() % 50)}});
    open[k].emplace_back(t, t + dur);
    if (i % 50 == 0) s.counter(tiles[k], "occupancy", t, i);
  }
  const Vcd v = parse_vcd(written("vcd", s));
  EXPECT_TRUE(std::is_sorted(v.times.begin(), v.times.end()));
  EXPECT_EQ(std::set<uint64_t>(v.times.begin(), v.times.end()).size(), v.times.size());
  EXPECT_EQ(v.name_of.size(), 6u);  // per tile: busy, bytes_in_flight, occupancy
  for (const auto& [id, name] : v.name_of) {
    ASSERT_TRUE(v.changes.count(id)) << name;
    EXPECT_GE(v.changes.at(id).size(), 2u) << name << " never changes after #0";
  }
  for (int k = 0; k < 2; ++k) {
    std::string busy_id;
    for (const auto& [id, name] : v.name_of)
      if (name == "tile" + std::to_string(k) + ".busy") busy_id = id;
    ASSERT_FALSE(busy_id.empty());
    const auto& wave = v.changes.at(busy_id);
    auto expected_at = [&](uint64_t t) {
      for (const auto& [b, e] : open[k])
        if (b <= t && t < e) return true;
      return false;
    };
    for (size_t i = 0; i < wave.size(); ++i) {
      // The value holds from this change to the next; check both ends of the interval.
      const uint64_t from = wave[i].first;
      const uint64_t to = i + 1 < wave.size() ? wave[i + 1].first : from + 1;
      EXPECT_EQ(wave[i].second == "1", expected_at(from)) << "tile" << k << " at " << from;
      EXPECT_EQ(wave[i].second == "1", expected_at(to - 1)) << "tile" << k << " at " << to - 1;
      if (i > 0) {
        EXPECT_NE(wave[i].second, wave[i - 1].second) << "a change that changes nothing";
      }
    }
  }
}

// ---- CSV -------------------------------------------------------------------------------------

// Derived by hand from record_tiny: argument columns bytes, energy_pj, layer, value (sorted);
// rows in time order, signals after the events at their time.
TEST(TraceCsv, TinyStoreExactBytes) {
  TraceStore s;
  record_tiny(s);
  const std::string expected =
      "kind,track,name,t_begin_ps,dur_ps,bytes,energy_pj,layer,value\n"
      "signal,host,irq,0,,,,,0\n"
      "signal,host,power_state,0,,,,,0\n"
      "span,bus,wr sram,200,300,64,,,\n"
      "span,bus,rd sram,300,400,16,,,\n"
      "counter,bus,queue,300,,,,,1\n"
      "counter,bus,queue,700,,,,,0\n"
      "span,tile0,mvm,1000,500,,1.5,\"fc,\"\"1\"\"\",\n"
      "span,tile0,dac,1000,100,,,,\n"
      "span,tile0,mvm,1500,200,,,1,\n"
      "instant,host,irq done,1700,,,,,\n"
      "signal,host,irq,1700,,,,,1\n"
      "signal,host,power_state,1800,,,,,1\n";
  EXPECT_EQ(written("csv", s), expected);
}

TEST(TraceCsv, ArgumentNamedLikeAColumnAndEmptyStore) {
  TraceStore s;
  EXPECT_EQ(written("csv", s), "kind,track,name,t_begin_ps,dur_ps\n");
  const int t = s.track("a\nb");
  s.span(t, "x", 0, 1, {{"name", "n"}});
  EXPECT_EQ(written("csv", s),
            "kind,track,name,t_begin_ps,dur_ps,arg:name\nspan,\"a\nb\",x,0,1,n\n");
}

TEST(TraceCsv, OneRowPerEvent) {
  std::mt19937 rng(11);
  TraceStore s;
  const int t0 = s.track("tile0"), bus = s.track("bus");
  size_t spans = 0;
  for (int i = 0; i < 300; ++i) {
    const uint64_t t = rng() % 10000;
    switch (rng() % 4) {
      case 0: s.counter(bus, "queue", t, i); break;
      case 1: s.instant(bus, "decode error", t, {{"address", i}}); break;
      case 2: s.signal(t0, "irq", t, i % 2); break;
      default: s.span(rng() % 2 ? t0 : bus, "mvm", t, rng() % 100, {{"vector", i}}); ++spans;
    }
  }
  std::istringstream in(written("csv", s));
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "kind,track,name,t_begin_ps,dur_ps,address,value,vector");
  size_t rows = 0, span_rows = 0;
  uint64_t last_t = 0;
  while (std::getline(in, line)) {
    ++rows;
    span_rows += line.rfind("span,", 0) == 0;
    EXPECT_EQ(std::count(line.begin(), line.end(), ','), 7) << line;
    std::istringstream fields(line);
    std::string kind, track, name, t;
    std::getline(fields, kind, ',');
    std::getline(fields, track, ',');
    std::getline(fields, name, ',');
    std::getline(fields, t, ',');
    EXPECT_GE(std::stoull(t), last_t) << line;
    last_t = std::stoull(t);
  }
  EXPECT_EQ(rows, s.event_count() + s.signals().size());
  EXPECT_EQ(span_rows, spans);
}
