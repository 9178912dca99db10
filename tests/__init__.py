"""The test suite, a package so that tests.fixtures imports and same-named test files never clash."""
