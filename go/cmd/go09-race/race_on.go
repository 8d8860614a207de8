//go:build race

package main

// raceEnabled is true in a binary built with -race: the build adds the "race" build tag.
const raceEnabled = true
