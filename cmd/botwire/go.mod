module github.com/botwire/botwire/cmd/botwire

go 1.25

require (
	github.com/botwire/botwire v0.1.0
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/google/go-cmp v0.7.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)
