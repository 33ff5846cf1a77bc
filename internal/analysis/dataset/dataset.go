// Package dataset reads the labeled data in shared/data (read in place,
// never copied) into training and validation examples for each analysis
// task, and carves a fixed validation split where a dataset has none.
package dataset

import (
	"bufio"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
)

// Item is one labeled text.
type Item struct {
	Text  string
	Label int
}

// Split is a dataset's training and validation items.
type Split struct {
	Name       string
	Train, Val []Item
}

// InVal reports whether a text belongs to the carved validation split: the
// SHA-256 of its normalized form (collapsed whitespace, trimmed, lower case
// — shared/data's hold-out rule without its NFC step), first 8 hex digits as
// an integer, modulo 10 is 0. Identical texts fall on one side.
func InVal(text string) bool {
	t := strings.ToLower(strings.Join(strings.FieldsFunc(text, unicode.IsSpace), " "))
	sum := sha256.Sum256([]byte(t))
	n, _ := strconv.ParseUint(hex.EncodeToString(sum[:4]), 16, 64)
	return n%10 == 0
}

func carve(name string, items []Item) Split {
	s := Split{Name: name}
	for _, it := range items {
		if InVal(it.Text) {
			s.Val = append(s.Val, it)
		} else {
			s.Train = append(s.Train, it)
		}
	}
	return s
}

// Lines reads a TweetEval-style pair of files: text per line, label per
// line.
func Lines(textPath, labelPath string) ([]Item, error) {
	texts, err := readLines(textPath)
	if err != nil {
		return nil, err
	}
	labels, err := readLines(labelPath)
	if err != nil {
		return nil, err
	}
	if len(texts) != len(labels) {
		return nil, fmt.Errorf("dataset: %s has %d lines, %s %d", textPath, len(texts), labelPath, len(labels))
	}
	items := make([]Item, len(texts))
	for i := range texts {
		l, err := strconv.Atoi(strings.TrimSpace(labels[i]))
		if err != nil {
			return nil, fmt.Errorf("dataset: %s line %d: %w", labelPath, i+1, err)
		}
		items[i] = Item{Text: texts[i], Label: l}
	}
	return items, nil
}

func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out, sc.Err()
}

// CSV reads a CSV file with a header, giving each row as a map.
func CSV(path string, comma rune, header []string) ([]map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = comma
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	if header == nil {
		if header, err = r.Read(); err != nil {
			return nil, fmt.Errorf("dataset: %s: %w", path, err)
		}
	}
	var rows []map[string]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("dataset: %s: %w", path, err)
		}
		row := map[string]string{}
		for i, h := range header {
			if i < len(rec) {
				row[h] = rec[i]
			}
		}
		rows = append(rows, row)
	}
}

// Dir is a folder laid out like shared/data.
type Dir string

func (d Dir) path(parts ...string) string {
	return filepath.Join(append([]string{string(d)}, parts...)...)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// trainLines reads a training pair of files; an evaluation folder may have
// none, which is no error.
func (d Dir) trainLines(text, labels string) ([]Item, error) {
	if !exists(text) && !exists(labels) {
		return nil, nil
	}
	return Lines(text, labels)
}

// withVal sets a TweetEval-style split's evaluation items: test_text.txt +
// test_labels.txt when the folder has them (an evaluation folder), else
// val_text.txt + val_labels.txt.
func (d Dir) withVal(s Split) (Split, error) {
	name := "val"
	if exists(d.path(s.Name, "test_text.txt")) {
		name = "test"
	}
	var err error
	s.Val, err = Lines(d.path(s.Name, name+"_text.txt"), d.path(s.Name, name+"_labels.txt"))
	return s, err
}

// trainOrTest reads a dataset's train file and carves its validation
// split, or, when the folder holds a test file of the same format
// (test.csv, test.tsv), takes that file whole as the evaluation split.
func (d Dir) trainOrTest(folder, trainFile string, parse func(path string) ([]Item, error)) (Split, error) {
	if test := d.path(folder, "test"+filepath.Ext(trainFile)); exists(test) {
		val, err := parse(test)
		return Split{Name: folder, Val: val}, err
	}
	items, err := parse(d.path(folder, trainFile))
	if err != nil {
		return Split{}, err
	}
	return carve(folder, items), nil
}

// SentimentEN: tweeteval-sentiment (0 negative, 1 neutral, 2 positive);
// train = the SemEval 2013–2016 pool, val = the official validation split.
func (d Dir) SentimentEN() (Split, error) {
	train, err := d.trainLines(d.path("tweeteval-sentiment", "semeval2013-2016_text.txt"), d.path("tweeteval-sentiment", "semeval2013-2016_labels.txt"))
	if err != nil {
		return Split{}, err
	}
	return d.withVal(Split{Name: "tweeteval-sentiment", Train: train})
}

// SentimentFR: xlmt-sentiment-fr, same labels.
func (d Dir) SentimentFR() (Split, error) {
	train, err := d.trainLines(d.path("xlmt-sentiment-fr", "train_text.txt"), d.path("xlmt-sentiment-fr", "train_labels.txt"))
	if err != nil {
		return Split{}, err
	}
	return d.withVal(Split{Name: "xlmt-sentiment-fr", Train: train})
}

// OffensiveEN: tweeteval-offensive (1 offensive).
func (d Dir) OffensiveEN() (Split, error) {
	train, err := d.trainLines(d.path("tweeteval-offensive", "train_text.txt"), d.path("tweeteval-offensive", "train_labels.txt"))
	if err != nil {
		return Split{}, err
	}
	return d.withVal(Split{Name: "tweeteval-offensive", Train: train})
}

// Davidson: offensive-or-hate (1) vs neither (0), carved.
func (d Dir) Davidson() (Split, error) {
	return d.trainOrTest("davidson-hate-offensive", "train.csv", func(path string) ([]Item, error) {
		rows, err := CSV(path, ',', nil)
		var items []Item
		for _, r := range rows {
			l := 1
			if r["class"] == "2" {
				l = 0
			}
			items = append(items, Item{Text: r["tweet"], Label: l})
		}
		return items, err
	})
}

// ToxicFR: mlma-hate-fr, exactly "normal" → 0, anything else → 1, carved.
func (d Dir) ToxicFR() (Split, error) {
	return d.trainOrTest("mlma-hate-fr", "train.csv", func(path string) ([]Item, error) {
		rows, err := CSV(path, ',', nil)
		var items []Item
		for _, r := range rows {
			l := 1
			if strings.TrimSpace(r["sentiment"]) == "normal" {
				l = 0
			}
			items = append(items, Item{Text: r["tweet"], Label: l})
		}
		return items, err
	})
}

// YouTubeSpam: CLASS 1 spam, carved.
func (d Dir) YouTubeSpam() (Split, error) {
	return d.trainOrTest("youtube-spam", "train.csv", func(path string) ([]Item, error) {
		rows, err := CSV(path, ',', nil)
		var items []Item
		for _, r := range rows {
			items = append(items, Item{Text: r["CONTENT"], Label: atoi(r["CLASS"])})
		}
		return items, err
	})
}

// SMSSpam: "spam" → 1, carved.
func (d Dir) SMSSpam() (Split, error) {
	return d.trainOrTest("sms-spam", "train.tsv", func(path string) ([]Item, error) {
		lines, err := readLines(path)
		var items []Item
		for _, l := range lines {
			label, text, ok := strings.Cut(l, "\t")
			if !ok {
				continue
			}
			v := 0
			if label == "spam" {
				v = 1
			}
			items = append(items, Item{Text: text, Label: v})
		}
		return items, err
	})
}

func atoi(s string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(s))
	return n
}

// Valences reads an AFINN-style lexicon ("term<TAB>score" per line) as
// polarity items: score < 0 → 0 (negative), > 0 → 2 (positive). Training
// on them as one-word examples puts the lexicon's knowledge into the
// weights without shipping the lexicon.
func (d Dir) Valences(parts ...string) ([]Item, error) {
	lines, err := readLines(d.path(append([]string{"lexicons"}, parts...)...))
	if err != nil {
		return nil, err
	}
	var out []Item
	for _, l := range lines {
		term, score, ok := strings.Cut(l, "\t")
		if !ok {
			continue
		}
		v, err := strconv.Atoi(strings.TrimSpace(score))
		if err != nil || v == 0 {
			continue
		}
		label := 0
		if v > 0 {
			label = 2
		}
		out = append(out, Item{Text: term, Label: label})
	}
	return out, nil
}

// Words reads a one-word-per-line lexicon under lexicons/ (the French
// bad-words list), keeping the entries written in letters, apostrophes,
// hyphens and spaces: the list's leetspeak variants (`!mb3c!l3`) would
// teach the models digits and punctuation rather than words.
func (d Dir) Words(parts ...string) ([]string, error) {
	lines, err := readLines(d.path(append([]string{"lexicons"}, parts...)...))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range lines {
		w := strings.TrimSpace(l)
		if w == "" || strings.ContainsFunc(w, func(r rune) bool {
			return !unicode.IsLetter(r) && r != '\'' && r != '-' && r != ' '
		}) {
			continue
		}
		out = append(out, w)
	}
	return out, nil
}

// Polarity is a lexicon entry with its polarity in [-1, 1].
type Polarity struct {
	Word     string
	Polarity float64
}

// PatternFR reads the Pattern French sentiment lexicon (PDDL): mostly
// adjectives, every gender and number form.
func (d Dir) PatternFR() ([]Polarity, error) {
	f, err := os.Open(d.path("lexicons", "pattern-fr", "fr-sentiment.xml"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var doc struct {
		Words []struct {
			Form     string  `xml:"form,attr"`
			Polarity float64 `xml:"polarity,attr"`
		} `xml:"word"`
	}
	if err := xml.NewDecoder(f).Decode(&doc); err != nil {
		return nil, fmt.Errorf("pattern-fr: %w", err)
	}
	out := make([]Polarity, 0, len(doc.Words))
	for _, w := range doc.Words {
		if w.Form != "" {
			out = append(out, Polarity{Word: w.Form, Polarity: w.Polarity})
		}
	}
	return out, nil
}
