module gmrlab

go 1.22
