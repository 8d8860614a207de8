//go:build race

package main

// raceEnabled is true when the binary was built with -race (the build adds the "race" tag).
const raceEnabled = true
