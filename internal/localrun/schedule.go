package localrun

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"vigie/internal/samtemplate"
)

var defaultLogOutput = os.Stderr

// startSchedules fires each enabled schedule of the template at its times,
// invoking its function with the event EventBridge Scheduler would send (or
// the schedule's constant Input). A firing that fails is logged; like a
// scheduled rule, the schedule goes on.
func (r *Runner) startSchedules(ctx context.Context) {
	for _, fn := range r.tmpl.Functions {
		for _, s := range fn.Schedules {
			if !s.Enabled {
				continue
			}
			sched, err := samtemplate.ParseSchedule(s.Expression)
			if err != nil {
				r.log.Error("schedule not started", "function", fn.LogicalID, "schedule", s.Name, "error", err)
				continue
			}
			r.wg.Add(1)
			go func() {
				defer r.wg.Done()
				r.runSchedule(ctx, fn.LogicalID, s, sched)
			}()
		}
	}
}

func (r *Runner) runSchedule(ctx context.Context, fnID string, s samtemplate.Schedule, sched interface{ Next(time.Time) time.Time }) {
	inv := r.invokers[fnID]
	for {
		now := r.clock.Now()
		next := sched.Next(now)
		select {
		case <-ctx.Done():
			return
		case <-r.after(next.Sub(now)):
		}
		payload := []byte(s.Input)
		if len(payload) == 0 {
			ev := events.EventBridgeEvent{
				Version: "0", ID: fmt.Sprintf("%s-%s-%d", fnID, s.Name, next.Unix()),
				DetailType: "Scheduled Event", Source: "aws.events", AccountID: "000000000000",
				Time: next.UTC(), Region: "local",
				Resources: []string{"arn:aws:events:local:000000000000:rule/" + fnID + "-" + s.Name},
				Detail:    json.RawMessage(`{}`),
			}
			payload, _ = json.Marshal(ev)
		}
		if _, err := inv.Invoke(ctx, payload); err != nil {
			r.log.Error("scheduled invocation failed", "function", fnID, "schedule", s.Name, "error", err)
		} else {
			r.log.Debug("scheduled invocation", "function", fnID, "schedule", s.Name)
		}
	}
}
