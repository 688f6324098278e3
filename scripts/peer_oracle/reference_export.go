// Copied into the peer's package directory by check_against_go.py: the anchored expressions its
// regexp_test.go uses are unexported, so this file exports them to the oracle.
package reference

import "regexp"

var OracleDomain = regexp.MustCompile(`^` + domainAndPort + `$`)
var OracleName = anchoredNameRegexp
var OracleRef = referenceRegexp
var OracleIdent = anchoredIdentifierRegexp
