package io.github.pgiplisten.observation;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.jspecify.annotations.Nullable;

import io.micrometer.common.KeyValue;
import io.micrometer.common.KeyValues;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.LongTaskTimer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.observation.DefaultMeterObservationHandler;
import io.micrometer.core.instrument.observation.MeterObservationHandler;
import io.micrometer.observation.Observation;

/**
 * The meters of a listener's observation, the same as Micrometer's {@link DefaultMeterObservationHandler} makes (a
 * timer named after the observation with its low-cardinality key values and {@code error}, and a long task timer
 * {@code <name>.active} unless ignored), found once per set of key values instead of registered again for every
 * notification. A listener is observed once per notification, at rates where Micrometer's lookup of the two meters by
 * name and tags costs more than the observation itself.
 *
 * <p>Spring Boot puts every {@link MeterObservationHandler} bean into one group and gives each observation to the first
 * that supports its context: this one, ordered first, supports only {@link PgListenerObservationContext}, so every other
 * observation keeps Boot's handler, and a tracer, when present, still adds its exemplars around this one. A convention
 * or filter that changes the key values is honoured: the timer is found by the key values the context has when it
 * stops, as Micrometer's handler does.
 */
public class PgListenerMeterObservationHandler implements MeterObservationHandler<PgListenerObservationContext> {

    /** The most key value sets whose meters are kept; past that (channels made per tenant) they are looked up each time. */
    static final int CACHED_AT_MOST = 4096;

    private static final String NO_ERROR = "none";

    private final MeterRegistry registry;
    private final boolean longTaskTimer;
    private final Map<String, Map<KeyValues, Meters>> meters = new ConcurrentHashMap<>();

    /** Creates the timer and the long task timer, as Micrometer's default handler does. */
    public PgListenerMeterObservationHandler(MeterRegistry registry) {
        this(registry, true);
    }

    /**
     * @param longTaskTimer false when the application ignores long task timers
     * ({@code management.metrics.observations.ignored-meters=long-task-timer})
     */
    public PgListenerMeterObservationHandler(MeterRegistry registry, boolean longTaskTimer) {
        this.registry = registry;
        this.longTaskTimer = longTaskTimer;
    }

    @Override
    public boolean supportsContext(Observation.Context context) {
        return context instanceof PgListenerObservationContext;
    }

    @Override
    public void onStart(PgListenerObservationContext context) {
        if (longTaskTimer) {
            context.put(
                    LongTaskTimer.Sample.class,
                    meters(nameOf(context), context.getLowCardinalityKeyValues())
                            .active()
                            .start());
        }
        context.put(Timer.Sample.class, Timer.start(registry));
    }

    @Override
    public void onStop(PgListenerObservationContext context) {
        Timer.Sample sample = context.getRequired(Timer.Sample.class);
        Throwable error = context.getError();
        Meters found = meters(nameOf(context), context.getLowCardinalityKeyValues());
        sample.stop(
                error == null
                        ? found.timer(NO_ERROR)
                        : found.timer(error.getClass().getSimpleName()));
        if (longTaskTimer) {
            LongTaskTimer.Sample active = context.getRequired(LongTaskTimer.Sample.class);
            active.stop();
        }
    }

    @Override
    public void onEvent(Observation.Event event, PgListenerObservationContext context) {
        Counter.builder(nameOf(context) + "." + event.getName())
                .tags(tags(context.getLowCardinalityKeyValues()))
                .register(registry)
                .increment();
    }

    /** The observation's name: the convention's, {@link PgListenObservations#LISTENER} by default. */
    private static String nameOf(PgListenerObservationContext context) {
        String name = context.getName();
        return name != null ? name : PgListenObservations.LISTENER;
    }

    private Meters meters(String name, KeyValues keyValues) {
        Map<KeyValues, Meters> byKeyValues = meters.computeIfAbsent(name, any -> new ConcurrentHashMap<>());
        Meters found = byKeyValues.get(keyValues);
        if (found != null) {
            return found;
        }
        Meters made = new Meters(name, tags(keyValues));
        if (byKeyValues.size() >= CACHED_AT_MOST) {
            return made; // Micrometer's registry still finds the same meters, only slower
        }
        Meters raced = byKeyValues.putIfAbsent(keyValues, made);
        return raced != null ? raced : made;
    }

    private static Tags tags(KeyValues keyValues) {
        Tags tags = Tags.empty();
        for (KeyValue keyValue : keyValues) {
            tags = tags.and(Tag.of(keyValue.getKey(), keyValue.getValue()));
        }
        return tags;
    }

    /** The meters of one name and set of key values: the long task timer and a timer per error value. */
    private final class Meters {

        private final String name;
        private final Tags tags;
        private final Map<String, Timer> timers = new ConcurrentHashMap<>(2);
        private @Nullable LongTaskTimer active;

        Meters(String name, Tags tags) {
            this.name = name;
            this.tags = tags;
        }

        Timer timer(String error) {
            Timer timer = timers.get(error);
            if (timer == null) {
                timer = Timer.builder(name).tags(tags).tag("error", error).register(registry);
                if (timers.size() < 16) { // error values are exception class names: few
                    timers.putIfAbsent(error, timer);
                }
            }
            return timer;
        }

        LongTaskTimer active() {
            LongTaskTimer timer = active;
            if (timer == null) {
                timer = LongTaskTimer.builder(name + ".active").tags(tags).register(registry);
                active = timer;
            }
            return timer;
        }
    }
}
