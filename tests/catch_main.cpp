// The one Catch2 main of the test suite; every *_test.cpp links against it.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
