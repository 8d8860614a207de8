//go:build !race

package main

// raceEnabled is false in a binary built without -race.
const raceEnabled = false
