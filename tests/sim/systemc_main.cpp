// GoogleTest entry for SystemC tests: SystemC's main() calls sc_main, which runs the tests.
// Every case elaborates its own platform, so ctest runs each in its own process
// (gtest_discover_tests). SystemC warnings throw, so they fail the test that caused them.
#include <gtest/gtest.h>
#include <systemc>

int sc_main(int argc, char* argv[]) {
  ::testing::InitGoogleTest(&argc, argv);
  sc_core::sc_report_handler::set_actions(sc_core::SC_WARNING,
                                          sc_core::SC_DISPLAY | sc_core::SC_THROW);
  return RUN_ALL_TESTS();
}
