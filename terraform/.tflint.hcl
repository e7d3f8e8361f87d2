# tflint's bundled terraform ruleset, all of it: documented and typed variables and
# outputs, the standard module layout, pinned versions, naming. (The AWS ruleset is not
# served by the Go module proxy here.)
plugin "terraform" {
  enabled = true
  preset  = "all"
}
