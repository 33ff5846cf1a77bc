// Command without is the baseline of the analysis size probe.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Println(os.Args[0])
}
