// Command withanalysis is the size probe for the analysis package: the
// same program as ../without, plus one analysis.
package main

import (
	"fmt"
	"os"

	"vigie/internal/analysis"
)

func main() {
	a, err := analysis.Default()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(a.Analyze(os.Args[0], analysis.Hints{}).Lang)
}
