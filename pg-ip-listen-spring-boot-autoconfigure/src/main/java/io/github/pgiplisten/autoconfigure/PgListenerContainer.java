package io.github.pgiplisten.autoconfigure;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.ApplicationContext;
import org.springframework.context.ApplicationContextAware;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.ApplicationListener;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.event.ContextClosedEvent;

import io.github.pgiplisten.PgListenEvent;
import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.core.EngineStatus;
import io.github.pgiplisten.core.GroupSession;
import io.github.pgiplisten.core.PgListenEngine;
import io.github.pgiplisten.core.PgListenOptions;
import io.github.pgiplisten.core.durable.ChannelLag;
import io.github.pgiplisten.core.durable.DurableConsumer;

/**
 * Runs the application's one {@link PgListenEngine} for the {@code @PgListener} methods. It is a {@link SmartLifecycle}
 * in phase {@code pg-ip-listen.phase}, by default {@link #DEFAULT_PHASE} ({@code Integer.MAX_VALUE - 100}, the phase
 * of Spring Kafka's listener containers). Spring starts lifecycle beans by ascending phase and stops them in reverse,
 * so by default it starts after every lifecycle bean of a lower phase, Spring Boot's embedded web server
 * ({@code Integer.MAX_VALUE - 2048}) and its graceful shutdown ({@code Integer.MAX_VALUE - 1024}) included, and stops
 * before them; but it starts <em>before</em> the {@code SmartLifecycle} beans that keep the default phase
 * ({@code Integer.MAX_VALUE}) and stops <em>after</em> them, so listeners may run while such a bean is not running
 * yet or any more (give a bean that listeners need a lower phase). Every non-lazy singleton exists before any
 * lifecycle bean starts.
 * <p>
 * A graceful stop starts the handover as early as it is known: at SIGTERM ({@link ShutdownSignal}, which only flips the
 * engine into closing) or at the context's close event, whichever comes first, so before any lifecycle bean stops;
 * the leader handles everything before its handover mark and waits for its listeners before the successor starts, so
 * starting early loses nothing. While running it holds a non-daemon thread, so an application that only listens stays
 * up until it is told to stop. Engine events become {@link PgListenEvent}s ({@link EngineEventTranslator}); the
 * channels told as listened answer {@link #listeningChannels()} and {@link #awaitListening}; {@link #snapshot()} is
 * the engine's status as it is. The engine's options come finished ({@link ListenOptionsFactory}): the container only
 * runs what was configured.
 */
public class PgListenerContainer
        implements SmartLifecycle,
                PgListenStatus,
                DisposableBean,
                ApplicationListener<ContextClosedEvent>,
                ApplicationContextAware {

    /**
     * The default phase ({@code pg-ip-listen.phase}), {@code Integer.MAX_VALUE - 100} as Spring Kafka's listener
     * containers: starts after the web server ({@code Integer.MAX_VALUE - 2048}) and its graceful shutdown
     * ({@code Integer.MAX_VALUE - 1024}) and before the beans of SmartLifecycle's default phase
     * ({@code Integer.MAX_VALUE}); stops in reverse.
     */
    public static final int DEFAULT_PHASE = Integer.MAX_VALUE - 100;

    private static final Logger log = LoggerFactory.getLogger(PgListenerContainer.class);

    private final PgListenOptions options;
    private final int phase;
    private final ListenerRegistry registry;
    private final @Nullable DurableSupport durableSupport;
    private final ListeningChannels listening = new ListeningChannels();
    private final EngineEventTranslator events;
    private final Object monitor = new Object();
    private volatile @Nullable PgListenEngine engine;
    private volatile @Nullable DurableConsumer durable;
    private @Nullable ApplicationContext context;
    private @Nullable KeepAliveThread keepAlive;
    private @Nullable ShutdownSignal releaseOnSignal;

    /**
     * @param options finished
     * @param phase the {@link SmartLifecycle} phase, {@link #DEFAULT_PHASE} unless configured
     */
    PgListenerContainer(
            PgListenOptions options,
            ListenerRegistry registry,
            @Nullable DurableSupport durableSupport,
            ApplicationEventPublisher events,
            int phase) {
        this.options = options;
        this.registry = registry;
        this.durableSupport = durableSupport;
        this.events = new EngineEventTranslator(this, options.group(), listening, events, this::isRunning);
        this.phase = phase;
    }

    @Override
    public void setApplicationContext(ApplicationContext context) {
        this.context = context;
    }

    /**
     * Adds endpoints; when the engine already runs (a lazy bean created late), those that start automatically are
     * subscribed at once.
     * @throws PgListenConfigurationException when an id is taken
     */
    void register(List<PgListenerEndpoint> endpoints) {
        synchronized (monitor) {
            for (PgListenerEndpoint endpoint : endpoints) {
                if (endpoint.durable() && !options.oneProcessListener()) {
                    throw new PgListenConfigurationException(
                            "@PgListener method " + endpoint + " is durable, and durable channels need the"
                                    + " one-process-listener mode: each group reads a durable channel once, through"
                                    + " its elected leader, which broadcast mode (pg-ip-listen.one-process-listener="
                                    + "false) does not have",
                            "Remove pg-ip-listen.one-process-listener=false, or make the listener plain (without"
                                    + " durable = true) to get every notification on every instance.");
                }
                if (endpoint.durable() && durableSupport == null) {
                    throw new PgListenConfigurationException(
                            "@PgListener method " + endpoint + " is durable, and durable channels need the"
                                    + " application's DataSource (one, or a @Primary one) and spring-jdbc",
                            "Add spring-boot-starter-jdbc and configure spring.datasource.*.");
                }
                try {
                    registry.add(endpoint);
                } catch (IllegalArgumentException ex) {
                    throw new PgListenConfigurationException(
                            "@PgListener method " + endpoint + ": " + ex.getMessage(),
                            "Give each @PgListener its own id (the default, beanName#methodName, " + "is unique).");
                }
            }
            if (engine != null) {
                log.info("@PgListener methods added while running: {}", endpoints);
            }
        }
    }

    /** The listeners by id: the {@link io.github.pgiplisten.PgListenerEndpointRegistry} bean. */
    ListenerRegistry registry() {
        return registry;
    }

    /**
     * The context starts closing: a leader releases its lock right away, so the standby takes over while the rest
     * of the shutdown (other beans, the lifecycle phases before ours) goes on; {@link #stop()} waits for the end.
     */
    @Override
    public void onApplicationEvent(ContextClosedEvent event) {
        PgListenEngine running = engine;
        if (running != null && event.getApplicationContext() == context) {
            beginHandover(running, durable);
        }
    }

    /**
     * Starts the graceful close: first the durable batches in flight end (committed, within the shutdown timeout),
     * so that a successor never reads a batch this leader is still handling (its effects outside the database would
     * happen twice), then the engine hands over.
     */
    private static void beginHandover(PgListenEngine running, @Nullable DurableConsumer consumer) {
        if (consumer != null) {
            consumer.close();
        }
        running.beginClose();
    }

    /** Stops when the context is destroyed without a lifecycle stop (a failed start-up), so no thread lingers. */
    @Override
    public void destroy() {
        stop();
    }

    @Override
    public void start() {
        synchronized (monitor) {
            if (engine != null) {
                return;
            }
            PgListenEngine created = new PgListenEngine(options);
            DurableConsumer consumer =
                    registry.hasDurable() && durableSupport != null ? durableSupport.consumer(created) : null;
            registry.attach(created, consumer);
            created.addEventListener(events::translate);
            if (registry.isEmpty()) {
                log.info("No @PgListener methods: the listen connection will hold no LISTEN");
            } else {
                log.info("Listeners: {}", registry);
            }
            if (consumer != null) {
                consumer.start();
            }
            created.start();
            engine = created;
            durable = consumer;
            keepAlive = KeepAliveThread.start();
            releaseOnSignal = ShutdownSignal.onShutdown(() -> beginHandover(created, consumer));
        }
    }

    @Override
    public void stop() {
        PgListenEngine running;
        DurableConsumer consumer;
        synchronized (monitor) {
            running = engine;
            engine = null;
            consumer = durable;
            durable = null;
        }
        if (consumer != null) {
            consumer.close(); // its transactions in flight end (commit, or are fenced) before the engine hands over
        }
        if (running != null) {
            running.close();
        }
        registry.detach();
        listening.clear();
        synchronized (monitor) {
            if (releaseOnSignal != null) {
                releaseOnSignal.remove();
                releaseOnSignal = null;
            }
            if (keepAlive != null) {
                keepAlive.release();
                keepAlive = null;
            }
        }
    }

    @Override
    public boolean isRunning() {
        return engine != null;
    }

    @Override
    public int getPhase() {
        return phase;
    }

    /** The engine's state now; while stopped (before start, after stop), the channels of the listener methods. */
    @Override
    public EngineStatus snapshot() {
        PgListenEngine current = engine;
        return current != null ? current.status() : EngineStatus.stopped(Set.copyOf(registry.wantedChannels()));
    }

    @Override
    public Set<String> listeningChannels() {
        return engine == null ? Set.of() : listening.snapshot();
    }

    @Override
    public boolean awaitListening(Duration timeout, String... channels) throws InterruptedException {
        Set<String> wanted = channels.length > 0
                ? Set.copyOf(Arrays.asList(channels))
                : snapshot().channels().subscribed();
        return listening.await(wanted, timeout);
    }

    @Override
    public Set<String> durableChannels() {
        return registry.durableChannels();
    }

    @Override
    public List<ChannelLag> durableLag() {
        DurableConsumer consumer = durable;
        if (consumer == null) {
            return List.of();
        }
        LagReading last = lastLag;
        long now = System.nanoTime();
        if (last != null && last.consumer == consumer && now - last.at < LAG_CACHE_NANOS) {
            return last.lags;
        }
        try {
            List<ChannelLag> lags = consumer.lag();
            lastLag = new LagReading(consumer, now, lags);
            return lags;
        } catch (Exception ex) {
            throw new IllegalStateException("Could not read the durable channels' lag: " + ex.getMessage(), ex);
        }
    }

    private static final long LAG_CACHE_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(1);

    private volatile @Nullable LagReading lastLag;

    /** The last lag read, so that health and every gauge of one scrape share one query. */
    private record LagReading(DurableConsumer consumer, long at, List<ChannelLag> lags) {}

    /**
     * A switchover: when this instance leads, it hands over to a hot standby of its group as at a graceful stop
     * (nothing lost, nothing twice) and stays on as a standby (see {@link PgListenEngine#switchover()}). The future
     * completes with the successor's backend pid once the lock is released, or fails with an
     * {@link IllegalStateException} that says why there was no switchover (not the leader, no hot standby, not
     * running).
     */
    public java.util.concurrent.CompletableFuture<Integer> switchover() {
        PgListenEngine running = engine;
        if (running == null) {
            return java.util.concurrent.CompletableFuture.failedFuture(new IllegalStateException(
                    "The listener container of group '" + options.group() + "' is not running: no switchover"));
        }
        return running.switchover();
    }

    /**
     * Every session of this instance's group as the server sees it now, leader first ({@link GroupSession}), asked on
     * {@code connection}: one of the application's DataSource, never the listen connection. Works before start and
     * after stop too.
     * @throws SQLException when the statement fails
     */
    public List<GroupSession> groupSessions(Connection connection) throws SQLException {
        return PgListenEngine.groupSessions(connection, options.group(), options.hotStandbys());
    }

    /** The group this instance elects its listener in. */
    public String group() {
        return options.group();
    }

    /** The options the engine runs with. */
    public PgListenOptions options() {
        return options;
    }
}
