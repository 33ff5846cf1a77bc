// Package bus holds Vigie's two implementations of vigie.Bus, in
// subpackages: eventbridgebus publishes to Amazon EventBridge, localbus
// routes events in process with the rules of template.yaml. Its test checks
// that both route every event to the same rules.
package bus
