/**
 * Micrometer Observation of pg-ip-listen: one observation per notification a listener handles and per notification
 * {@code PgPublisher} sends ({@code pg-ip-listen.observation-enabled}), with OpenTelemetry's messaging conventions, and
 * the trace context carried from publisher to listener in the payload ({@code pg-ip-listen.trace-propagation}).
 */
@NullMarked
package io.github.pgiplisten.observation;

import org.jspecify.annotations.NullMarked;
