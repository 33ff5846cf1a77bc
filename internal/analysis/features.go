package analysis

import "strings"

// Features are hashed: each word, word pair and character n-gram maps to
// one of 2^hashBits buckets, so the models need no vocabulary and any text
// has features.
const hashBits = 18

const (
	dim      = 1 << hashBits
	fnvOff   = 14695981039346656037
	fnvPrime = 1099511628211
)

func hashString(seed uint64, s string) uint64 {
	h := uint64(fnvOff) ^ seed
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// featurize returns the hashed feature indexes of a token list: words,
// word bigrams, and character 2–4-grams of each word with its boundaries.
// Repeated features appear repeatedly (counts).
func featurize(toks []string, out []uint32) []uint32 {
	out = append(out, uint32(hashString(1, "<bias>")%dim))
	prev := "<s>"
	var buf []byte
	for _, t := range toks {
		out = append(out, uint32(hashString(2, t)%dim))
		out = append(out, uint32((hashString(3, prev)*31^hashString(4, t))%dim))
		prev = t
		if t[0] == '<' || len(t) > 30 {
			continue
		}
		buf = append(buf[:0], ' ')
		buf = append(buf, t...)
		buf = append(buf, ' ')
		for n := 2; n <= 4; n++ {
			for i := 0; i+n <= len(buf); i++ {
				out = append(out, uint32(hashBytes(uint64(10+n), buf[i:i+n])%dim))
			}
		}
	}
	return out
}

func hashBytes(seed uint64, b []byte) uint64 {
	h := uint64(fnvOff) ^ seed
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}

// linkFeatures adds what a text's links say, for the models trained with
// them (spam): the host, its registered label and top-level domain, and
// whether a path or query follows. Spam is mostly links, and which site a
// link points to tells more than that there is one; the shared word
// features see only <url>.
func linkFeatures(text string, out []uint32) []uint32 {
	n := 0
	for _, field := range strings.Fields(cut(text)) {
		low := strings.ToLower(strings.TrimRight(field, ".,!?;:)\"'\ufeff"))
		if !isLink(low) {
			continue
		}
		rest, scheme := strings.CutPrefix(low, "https://")
		if !scheme {
			rest, _ = strings.CutPrefix(low, "http://")
		}
		n++
		host, path, _ := strings.Cut(rest, "/")
		host, query, _ := strings.Cut(host, "?")
		host = strings.TrimPrefix(host, "www.")
		if host == "" || len(host) > 80 {
			continue
		}
		out = append(out, uint32(hashString(20, host)%dim))
		if dot := strings.LastIndexByte(host, '.'); dot > 0 {
			sld := host[:dot]
			sld = sld[strings.LastIndexByte(sld, '.')+1:]
			out = append(out, uint32(hashString(21, host[dot+1:])%dim))
			out = append(out, uint32(hashString(22, sld)%dim))
		}
		switch {
		case strings.Contains(path, "?") || query != "":
			out = append(out, uint32(hashString(23, "query")%dim))
		case path != "":
			out = append(out, uint32(hashString(23, "path")%dim))
		default:
			out = append(out, uint32(hashString(23, "bare")%dim))
		}
	}
	if n > 1 {
		out = append(out, uint32(hashString(24, "links")%dim))
	}
	return out
}
