// The peer oracle: reads a JSON array of strings on stdin and prints, for each, what the real
// distribution/reference functions return (check_against_go.py builds and runs it).
package main

import (
	_ "crypto/sha256"
	"encoding/json"
	"os"
	"strings"

	"oracle/digest"
	"oracle/reference"
)

var errNames = map[error]string{
	reference.ErrReferenceInvalidFormat: "ErrReferenceInvalidFormat",
	reference.ErrTagInvalidFormat:       "ErrTagInvalidFormat",
	reference.ErrDigestInvalidFormat:    "ErrDigestInvalidFormat",
	reference.ErrNameContainsUppercase:  "ErrNameContainsUppercase",
	reference.ErrNameEmpty:              "ErrNameEmpty",
	reference.ErrNameTooLong:            "ErrNameTooLong",
	reference.ErrNameNotCanonical:       "ErrNameNotCanonical",
	digest.ErrDigestInvalidFormat:       "digest.ErrDigestInvalidFormat",
	digest.ErrDigestInvalidLength:       "digest.ErrDigestInvalidLength",
	digest.ErrDigestUnsupported:         "digest.ErrDigestUnsupported",
}

func errName(err error) string {
	if name, ok := errNames[err]; ok {
		return name
	}
	msg := err.Error()
	switch { // ParseNormalizedNamed's formatted errors
	case strings.HasPrefix(msg, "invalid reference format: repository name (") && strings.HasSuffix(msg, ") must be lowercase"):
		return "ErrNameContainsUppercase"
	case strings.HasSuffix(msg, "cannot specify 64-byte hexadecimal strings"):
		return "ErrNameIsIdentifier"
	}
	return "other: " + msg
}

func out(r reference.Reference, err error) map[string]any {
	if err != nil {
		return map[string]any{"err": errName(err)}
	}
	m := map[string]any{"string": r.String(), "familiar_string": reference.FamiliarString(r)}
	if n, ok := r.(reference.Named); ok {
		m["name"] = n.Name()
		m["domain"] = reference.Domain(n)
		m["path"] = reference.Path(n)
		m["familiar_name"] = reference.FamiliarName(n)
	}
	if t, ok := r.(reference.Tagged); ok && t.Tag() != "" {
		m["tag"] = t.Tag()
	}
	if d, ok := r.(reference.Digested); ok && d.Digest() != "" {
		m["digest"] = d.Digest().String()
	}
	return m
}

func subs(m []string) any {
	if m == nil {
		return nil
	}
	return m[1:]
}

func main() {
	var inputs []string
	if err := json.NewDecoder(os.Stdin).Decode(&inputs); err != nil {
		panic(err)
	}
	res := map[string]any{}
	for _, s := range inputs {
		p, e1 := reference.Parse(s)
		n, e2 := reference.ParseNormalizedNamed(s)
		d, e3 := reference.ParseDockerRef(s)
		a, e4 := reference.ParseAnyReference(s)
		c, e5 := reference.ParseNamed(s)
		w, e6 := reference.WithName(s)
		res[s] = map[string]any{
			"Parse": out(p, e1), "ParseNormalizedNamed": out(n, e2), "ParseDockerRef": out(d, e3),
			"ParseAnyReference": out(a, e4), "ParseNamed": out(c, e5), "WithName": out(w, e6),
			"rx.domain": reference.OracleDomain.MatchString(s), "rx.name": subs(reference.OracleName.FindStringSubmatch(s)),
			"rx.ref": subs(reference.OracleRef.FindStringSubmatch(s)), "rx.ident": reference.OracleIdent.MatchString(s),
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		panic(err)
	}
}
