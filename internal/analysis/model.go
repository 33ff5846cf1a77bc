package analysis

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"unsafe"
)

// model is a linear classifier over hashed features: class scores are a
// bias plus the sum of the features' weights, scaled by 1/sqrt(feature
// count); probabilities are their softmax. Weights are kept as int8 with
// one scale per model, a quarter of float32's size at no measurable cost
// in accuracy.
type model struct {
	name    string
	classes []string
	scale   float32
	// threshold is the probability of the second class above which a
	// binary model says yes (0.5 unless calibrated at training).
	threshold float32
	// links adds linkFeatures to the shared features.
	links bool
	bias  []float32
	q     []int8 // dim × len(classes), feature-major
}

// scores writes the class probabilities of feats into p.
func (m *model) probs(feats []uint32, p []float64) {
	k := len(m.classes)
	var acc [8]int32
	for _, f := range feats {
		row := m.q[int(f)*k : int(f)*k+k]
		for c, w := range row {
			acc[c] += int32(w)
		}
	}
	norm := float64(m.scale) / math.Sqrt(float64(len(feats)))
	maxS := math.Inf(-1)
	for c := range k {
		p[c] = float64(m.bias[c]) + float64(acc[c])*norm
		maxS = math.Max(maxS, p[c])
	}
	sum := 0.0
	for c := range k {
		p[c] = math.Exp(p[c] - maxS)
		sum += p[c]
	}
	for c := range k {
		p[c] /= sum
	}
}

// features returns the features m reads: the shared ones of the text
// (base, from toks), plus its own when it has any, written into buf.
func (m *model) features(text string, toks []string, base, buf []uint32) []uint32 {
	if !m.links || !slices.Contains(toks, tokURL) {
		return base
	}
	return linkFeatures(text, append(buf[:0], base...))
}

// The weights file: "VIGW3", a model count, then per model its name,
// classes, flags (1: links), scale, threshold, biases and int8 weights,
// little-endian.
const magic = "VIGW3"

func marshalModels(ms []*model) []byte {
	out := []byte(magic)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(ms)))
	str := func(s string) {
		out = binary.LittleEndian.AppendUint16(out, uint16(len(s)))
		out = append(out, s...)
	}
	for _, m := range ms {
		str(m.name)
		out = append(out, byte(len(m.classes)))
		for _, c := range m.classes {
			str(c)
		}
		var flags byte
		if m.links {
			flags |= 1
		}
		out = append(out, flags)
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(m.scale))
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(m.threshold))
		for _, b := range m.bias {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(b))
		}
		for _, w := range m.q {
			out = append(out, byte(w))
		}
	}
	return out
}

var errWeights = errors.New("analysis: weights file is corrupt")

// unmarshalModels reads models without copying their weights.
func unmarshalModels(data []byte) (map[string]*model, error) {
	if len(data) < len(magic)+4 || string(data[:len(magic)]) != magic {
		return nil, errWeights
	}
	data = data[len(magic):]
	n := binary.LittleEndian.Uint32(data)
	data = data[4:]
	str := func() (string, bool) {
		if len(data) < 2 {
			return "", false
		}
		l := int(binary.LittleEndian.Uint16(data))
		if len(data) < 2+l {
			return "", false
		}
		s := string(data[2 : 2+l])
		data = data[2+l:]
		return s, true
	}
	out := map[string]*model{}
	for range n {
		m := &model{}
		var ok bool
		if m.name, ok = str(); !ok || len(data) < 1 {
			return nil, errWeights
		}
		k := int(data[0])
		data = data[1:]
		if k < 2 || k > 8 {
			return nil, errWeights
		}
		for range k {
			c, ok := str()
			if !ok {
				return nil, errWeights
			}
			m.classes = append(m.classes, c)
		}
		if len(data) < 1 || data[0]&^1 != 0 {
			return nil, errWeights
		}
		m.links = data[0]&1 != 0
		data = data[1:]
		if len(data) < 8+4*k+dim*k {
			return nil, fmt.Errorf("%w: model %s is cut short", errWeights, m.name)
		}
		m.scale = math.Float32frombits(binary.LittleEndian.Uint32(data))
		m.threshold = math.Float32frombits(binary.LittleEndian.Uint32(data[4:]))
		data = data[8:]
		for range k {
			m.bias = append(m.bias, math.Float32frombits(binary.LittleEndian.Uint32(data)))
			data = data[4:]
		}
		// The weights are used in place, not copied: loading costs nothing
		// at a cold start. They are never written.
		raw := data[:dim*k]
		m.q = unsafe.Slice((*int8)(unsafe.Pointer(&raw[0])), len(raw))
		data = data[dim*k:]
		out[m.name] = m
	}
	return out, nil
}
