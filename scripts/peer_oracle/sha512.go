//go:build sha512

// With -tags sha512 the oracle registers what docker registers (sha256, sha384, sha512).
package main

import _ "crypto/sha512"
