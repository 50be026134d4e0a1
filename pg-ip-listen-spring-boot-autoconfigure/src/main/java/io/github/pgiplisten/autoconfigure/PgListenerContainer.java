package io.github.pgiplisten.autoconfigure;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.ApplicationContext;
import org.springframework.context.ApplicationContextAware;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.ApplicationListener;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.SmartLifecycle;

import io.github.pgiplisten.PgListenEvent;
import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.PgListenerErrorHandler;
import io.github.pgiplisten.PgListenerExecutionFailedException;
import io.github.pgiplisten.core.EngineEvent;
import io.github.pgiplisten.core.EngineStatus;
import io.github.pgiplisten.core.NotificationObserver;
import io.github.pgiplisten.core.PgListenEngine;
import io.github.pgiplisten.core.PgListenOptions;
import io.github.pgiplisten.core.PgNotification;
import io.github.pgiplisten.core.Role;

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
 * A graceful stop starts the handover as early as it is known: at SIGTERM (a JVM shutdown hook that only flips the
 * engine into closing) or at the context's close event, whichever comes first, so before any lifecycle bean stops;
 * the leader handles everything before its handover mark and waits for its listeners before the successor starts, so
 * starting early loses nothing. While running it holds a non-daemon thread, so an application that only listens stays
 * up until it is told to stop. Engine events become {@link PgListenEvent}s; the channels told as listened answer
 * {@link #listeningChannels()} and {@link #awaitListening}.
 */
public class PgListenerContainer
        implements SmartLifecycle, PgListenStatus, DisposableBean, ApplicationListener<ContextClosedEvent>,
        ApplicationContextAware {

    /**
     * The default phase ({@code pg-ip-listen.phase}), {@code Integer.MAX_VALUE - 100} as Spring Kafka's listener
     * containers: starts after the web server ({@code Integer.MAX_VALUE - 2048}) and its graceful shutdown
     * ({@code Integer.MAX_VALUE - 1024}) and before the beans of SmartLifecycle's default phase
     * ({@code Integer.MAX_VALUE}); stops in reverse.
     */
    public static final int DEFAULT_PHASE = Integer.MAX_VALUE - 100;

    private static final Logger log = LoggerFactory.getLogger(PgListenerContainer.class);

    private final PgListenOptions.Builder options;
    private final PgListenOptions checked;
    private final PgListenerErrorHandler errorHandler;
    private final ObjectProvider<NotificationObserver> observers;
    private final ApplicationEventPublisher events;
    private final int phase;
    private final ListenerRegistry registry;
    private final ListeningChannels listening = new ListeningChannels();
    private final Object monitor = new Object();
    private volatile @Nullable PgListenEngine engine;
    private @Nullable ApplicationContext context;
    private @Nullable CountDownLatch keepAlive;
    /**
     * A JVM shutdown hook that only starts the engine's graceful close: the JVM runs it at once on SIGTERM, in
     * parallel with Spring Boot's own hook, so the handover does not wait for the context's close to reach us.
     */
    private @Nullable Thread releaseOnSignal;

    /**
     * @param options checked here, so bad properties fail start-up before anything connects; error handler and
     * observers are added when the engine starts
     * @param phase the {@link SmartLifecycle} phase, {@link #DEFAULT_PHASE} unless configured
     */
    PgListenerContainer(PgListenOptions.Builder options, PgListenerErrorHandler errorHandler,
            ObjectProvider<NotificationObserver> observers, ApplicationEventPublisher events, int phase,
            ListenerInvoker invoker) {
        this.checked = options.build();
        this.options = options;
        this.errorHandler = errorHandler;
        this.registry = new ListenerRegistry(errorHandler, invoker);
        this.observers = observers;
        this.events = events;
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
                try {
                    registry.add(endpoint);
                } catch (IllegalArgumentException ex) {
                    throw new PgListenConfigurationException("@PgListener method " + endpoint + ": "
                            + ex.getMessage(), "Give each @PgListener its own id (the default, beanName#methodName, "
                                    + "is unique).");
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
            running.beginClose();
        }
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
            PgListenOptions built = options.errorHandler(this::handleError)
                    .observer(composite(observers.orderedStream().toList())).build();
            PgListenEngine created = new PgListenEngine(built);
            registry.attach(created);
            created.addEventListener(this::publish);
            if (registry.isEmpty()) {
                log.info("No @PgListener methods: the listen connection will hold no LISTEN");
            } else {
                log.info("Listeners: {}", registry);
            }
            created.start();
            engine = created;
            keepAlive = startKeepAliveThread();
            releaseOnSignal = new Thread(created::beginClose, "pg-ip-listen-release-on-shutdown");
            try {
                Runtime.getRuntime().addShutdownHook(releaseOnSignal);
            } catch (IllegalStateException ex) {
                releaseOnSignal = null; // the JVM is already shutting down
            }
        }
    }

    @Override
    public void stop() {
        PgListenEngine running;
        synchronized (monitor) {
            running = engine;
            engine = null;
        }
        if (running != null) {
            running.close();
        }
        registry.detach();
        listening.clear();
        synchronized (monitor) {
            if (releaseOnSignal != null) {
                try {
                    Runtime.getRuntime().removeShutdownHook(releaseOnSignal);
                } catch (IllegalStateException ex) {
                    // the JVM is shutting down: the hook has run or runs now, harmlessly
                }
                releaseOnSignal = null;
            }
            if (keepAlive != null) {
                keepAlive.countDown();
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

    /** The engine's state now, or what it reports while stopped (before start, after stop). */
    private EngineStatus status() {
        PgListenEngine current = engine;
        return current != null ? current.status() : STOPPED;
    }

    private static final EngineStatus STOPPED = new EngineStatus(Role.STOPPED, false, Set.of(), Set.of(), 0, null,
            false, 0, 0, false, Double.NaN, null, null);

    @Override
    public Role role() {
        return status().role();
    }

    @Override
    public boolean isConnected() {
        return status().connected();
    }

    @Override
    public long backlog() {
        return status().backlog();
    }

    @Override
    public long backlogBytes() {
        return status().backlogBytes();
    }

    @Override
    public boolean isReadingPaused() {
        return status().readingPaused();
    }

    @Override
    public Optional<String> groupWarning() {
        return Optional.ofNullable(status().groupWarning());
    }

    @Override
    public Optional<String> lastFailure() {
        return Optional.ofNullable(status().lastFailure());
    }

    @Override
    public double notificationQueueUsage() {
        return status().notificationQueueUsage();
    }

    @Override
    public boolean canListen() {
        return status().listens();
    }

    @Override
    public Set<String> channels() {
        PgListenEngine current = engine;
        if (current != null) {
            return current.status().channels();
        }
        return Set.copyOf(registry.wantedChannels());
    }

    @Override
    public Optional<Instant> lastNotificationAt() {
        return Optional.ofNullable(status().lastNotificationAt());
    }

    @Override
    public Set<String> listeningChannels() {
        return engine == null ? Set.of() : listening.snapshot();
    }

    @Override
    public boolean awaitListening(Duration timeout, String... channels) throws InterruptedException {
        Set<String> wanted = channels.length > 0 ? Set.copyOf(Arrays.asList(channels)) : channels();
        return listening.await(wanted, timeout);
    }

    /** The group this instance elects its listener in. */
    public String group() {
        return checked.group();
    }

    /** The options the engine runs with, as configured (error handler and observers are added at start). */
    public PgListenOptions options() {
        return checked;
    }

    private void handleError(PgNotification notification, Throwable error) {
        if (error instanceof PgListenerExecutionFailedException failure) {
            registry.errorHandlerOf(failure.listener()).handleError(notification, failure);
        } else {
            errorHandler.handleError(notification,
                    new PgListenerExecutionFailedException("(unknown)", notification, "failed", error));
        }
    }

    private void publish(EngineEvent event) {
        PgListenEvent springEvent = null;
        if (event instanceof EngineEvent.LeadershipAcquired acquired) {
            springEvent = new PgListenEvent.LeadershipGranted(this, group(), acquired.handedOver(),
                    acquired.possibleRepeats(), acquired.skipped());
        } else if (event instanceof EngineEvent.LeadershipLost lost) {
            springEvent = new PgListenEvent.LeadershipRevoked(this, group(), lost.reason());
        } else if (event instanceof EngineEvent.Disconnected disconnected && engine != null) {
            springEvent = new PgListenEvent.ConnectionLost(this, group(), disconnected.cause());
        } else if (event instanceof EngineEvent.Reconnected reconnected) {
            springEvent = new PgListenEvent.ConnectionRestored(this, group(), reconnected.disconnectedAt(),
                    reconnected.at());
        } else if (event instanceof EngineEvent.ChannelListened listened) {
            listening.listened(listened.channel()); // before the event, so its listeners see it as listened
            springEvent = new PgListenEvent.ChannelListened(this, group(), listened.channel());
        } else if (event instanceof EngineEvent.ChannelUnlistened unlistened) {
            listening.unlistened(unlistened.channel());
            springEvent = new PgListenEvent.ChannelUnlistened(this, group(), unlistened.channel());
        }
        if (springEvent != null) {
            events.publishEvent(springEvent);
        }
    }

    private static NotificationObserver composite(List<NotificationObserver> observers) {
        if (observers.isEmpty()) {
            return NotificationObserver.NONE;
        }
        if (observers.size() == 1) {
            return observers.get(0);
        }
        return new NotificationObserver() {
            @Override
            public void received(PgNotification notification) {
                observers.forEach(observer -> observer.received(notification));
            }

            @Override
            public void handled(PgNotification notification, long nanos, @Nullable Throwable failure) {
                observers.forEach(observer -> observer.handled(notification, nanos, failure));
            }
        };
    }

    /** Like Spring Kafka's listener threads: a listener-only application does not exit while listening. */
    private static CountDownLatch startKeepAliveThread() {
        CountDownLatch latch = new CountDownLatch(1);
        Thread thread = new Thread(() -> {
            try {
                latch.await();
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
        }, "pg-ip-listen-keep-alive");
        thread.setDaemon(false);
        thread.start();
        return latch;
    }
}
