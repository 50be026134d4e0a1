package io.github.pgiplisten.bench;

import static io.github.pgiplisten.bench.Benchmarks.ROUNDS;
import static io.github.pgiplisten.bench.Benchmarks.log;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import io.github.pgiplisten.core.PgNotification;
import io.github.pgiplisten.observation.PgListenObservations;
import io.github.pgiplisten.observation.PgListenTraceEnvelope;
import io.github.pgiplisten.observation.PgListenerMeterObservationHandler;
import io.github.pgiplisten.observation.PgListenerObservationContext;
import io.github.pgiplisten.testsupport.PostgresServer;
import io.micrometer.core.instrument.observation.DefaultMeterObservationHandler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;

/**
 * Ours with observation on (a Micrometer timer per handled notification) against ours with it off and raw, in the same
 * runs: throughput (batched) and latency at 2000/s.
 */
final class ObservationSection implements Section {

    private final PostgresServer server;
    private final InJvmListeners listeners;

    ObservationSection(PostgresServer server) {
        this.server = server;
        this.listeners = new InJvmListeners(server);
    }

    @Override
    public void run(ResultsTable table) throws Exception {
        log("observation: ours with pg-ip-listen.observation-enabled and a timer per observation, ours without, raw; "
                + ROUNDS + " runs each, rotating");
        Map<String, List<Double>> rates = new LinkedHashMap<>();
        Map<String, List<Double>> p99 = new LinkedHashMap<>();
        List<String> variants = List.of("on", "off", "raw");
        for (int round = 0; round < ROUNDS; round++) {
            for (int v = 0; v < variants.size(); v++) {
                String variant = variants.get((v + round) % variants.size());
                boolean ours = !variant.equals("raw");
                String channel = "obs-" + UUID.randomUUID().toString().substring(0, 8);
                AtomicLong received = new AtomicLong();
                List<Double> millis = new CopyOnWriteArrayList<>();
                AtomicBoolean measuring = new AtomicBoolean();
                boolean observed = variant.equals("on");
                try (InJvmListeners.Listener listener = listeners.start(ours, observed, channel, payload -> {
                    received.incrementAndGet();
                    if (measuring.get() && payload.startsWith("t")) {
                        millis.add((System.nanoTime() - Long.parseLong(payload.substring(1))) / 1e6);
                    }
                })) {
                    double rate = Publishers.flat(server, channel, true, received);
                    rates.computeIfAbsent(variant, k -> new ArrayList<>()).add(rate);
                    Publishers.atRate(server, channel, 2000, Duration.ofSeconds(1), measuring, false);
                    Publishers.atRate(server, channel, 2000, Duration.ofSeconds(5), measuring, true);
                    Thread.sleep(300);
                }
                p99.computeIfAbsent(variant, k -> new ArrayList<>()).add(Stats.percentile(millis, 99));
                log(String.format(
                        Locale.ROOT,
                        "  %s: %.0f/s, p99 %.2f ms at 2000/s",
                        variant,
                        rates.get(variant).get(rates.get(variant).size() - 1),
                        Stats.percentile(millis, 99)));
            }
        }
        // the goals are the throughput and latency sections': observation on is to cost no more than that
        double againstRaw = Stats.median(rates.get("on")) / Stats.median(rates.get("raw"));
        Goal rateGoal = ThroughputSection.RATE_AGAINST_RAW.of(againstRaw);
        table.add(
                "throughput (batched) with observation on, notifications/s",
                Stats.medianAndSpread(rates.get("on"), "%.0f"),
                Stats.medianAndSpread(rates.get("raw"), "%.0f"),
                String.format(
                        Locale.ROOT,
                        "%.2f × raw (%s); observation off in the same runs: %s (on/off %.2f)",
                        againstRaw,
                        rateGoal,
                        Stats.medianAndSpread(rates.get("off"), "%.0f"),
                        Stats.median(rates.get("on")) / Stats.median(rates.get("off"))),
                rateGoal);
        perObservationCost(table);
        double overhead = Stats.median(p99.get("on")) - Stats.median(p99.get("raw"));
        Goal latencyGoal = LatencySection.P99_OVER_RAW.of(overhead);
        table.add(
                "latency at 2000/s with observation on, p99 ms",
                Stats.medianAndSpread(p99.get("on"), "%.2f"),
                Stats.medianAndSpread(p99.get("raw"), "%.2f"),
                String.format(
                        Locale.ROOT,
                        "overhead %.2f ms (%s); observation off in the same runs: %s",
                        overhead,
                        latencyGoal,
                        Stats.medianAndSpread(p99.get("off"), "%.2f")),
                latencyGoal);
    }

    /**
     * What one listener observation costs the thread that handles, with nothing else running: a listener's observation
     * as the starter makes it (its context and default convention), through an observation registry with Micrometer's
     * default meter handler (Spring Boot's, with its long task timer) and through one with the starter's listener
     * meter handler first, as Spring Boot groups them. Nanoseconds per observation over {@value #COST_CALLS} calls,
     * the last of {@value #COST_ROUNDS} rounds each, alternating.
     */
    private void perObservationCost(ResultsTable table) {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        ObservationRegistry boots = ObservationRegistry.create();
        boots.observationConfig().observationHandler(new DefaultMeterObservationHandler(meters));
        ObservationRegistry ours = ObservationRegistry.create();
        ours.observationConfig()
                .observationHandler(new ObservationHandler.FirstMatchingCompositeObservationHandler(
                        new PgListenerMeterObservationHandler(meters), new DefaultMeterObservationHandler(meters)));
        PgNotification notification = new PgNotification("bench-cost", "payload", 1);
        PgListenTraceEnvelope.Opened opened = PgListenTraceEnvelope.open(notification.payload());
        PgListenObservations.DefaultListenerConvention convention =
                new PgListenObservations.DefaultListenerConvention();
        double bootsNanos = 0;
        double oursNanos = 0;
        for (int round = 0; round < COST_ROUNDS; round++) {
            bootsNanos = nanosPerObservation(boots, convention, notification, opened);
            oursNanos = nanosPerObservation(ours, convention, notification, opened);
        }
        log(String.format(
                Locale.ROOT,
                "  one listener observation: %.0f ns with Boot's meter handler, %.0f ns with ours",
                bootsNanos,
                oursNanos));
        table.add(
                "one listener observation (timer and long task timer), ns on the handling thread",
                String.format(Locale.ROOT, "%.0f", oursNanos),
                "",
                String.format(
                        Locale.ROOT,
                        "with Micrometer's default meter handler instead (Spring Boot's): %.0f ns",
                        bootsNanos));
    }

    private static final int COST_ROUNDS = 5;
    private static final int COST_CALLS = 2_000_000;

    private static double nanosPerObservation(
            ObservationRegistry registry,
            PgListenObservations.DefaultListenerConvention convention,
            PgNotification notification,
            PgListenTraceEnvelope.Opened opened) {
        long[] handled = {0};
        long start = System.nanoTime();
        for (int i = 0; i < COST_CALLS; i++) {
            Observation.createNotStarted(
                            null,
                            convention,
                            () -> new PgListenerObservationContext(notification, opened, "bench#cost", "bench"),
                            registry)
                    .observe(() -> handled[0]++);
        }
        return (System.nanoTime() - start) / (double) COST_CALLS;
    }
}
