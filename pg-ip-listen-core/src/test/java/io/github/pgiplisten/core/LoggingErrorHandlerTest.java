package io.github.pgiplisten.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;

class LoggingErrorHandlerTest {

    private final Logger handlerLog = (Logger) LoggerFactory.getLogger(LoggingErrorHandler.class);
    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();

    @BeforeEach
    void catchTheEngineLog() {
        logged.start();
        handlerLog.addAppender(logged);
        handlerLog.setAdditive(false); // the failure is made on purpose: keep it off the console
    }

    @AfterEach
    void releaseTheEngineLog() {
        handlerLog.detachAppender(logged);
        handlerLog.setAdditive(true);
    }

    @Test
    void aFailedHandlerIsLoggedUnderItsOwnNameWithChannelSenderAndCause() {
        IllegalStateException cause = new IllegalStateException("boom");
        PgListenOptions.builder("jdbc:postgresql://localhost/app")
                .build()
                .errorHandler()
                .handleError(new PgNotification("orders", "{\"id\":1}", 4711), cause);

        assertThat(logged.list).singleElement().satisfies(event -> {
            assertThat(event.getLevel()).isEqualTo(Level.ERROR);
            assertThat(event.getFormattedMessage())
                    .isEqualTo("Handler for channel 'orders' failed on payload '{\"id\":1}' (sender pid 4711)");
            assertThat(event.getThrowableProxy().getMessage()).isEqualTo("boom");
        });
    }

    @Test
    void aLongPayloadIsLoggedAsAPreviewWithItsLength() {
        String payload = "x".repeat(7000);
        LoggingErrorHandler.INSTANCE.handleError(new PgNotification("orders", payload, 1), new RuntimeException());

        assertThat(logged.list)
                .singleElement()
                .extracting(ILoggingEvent::getFormattedMessage)
                .asString()
                .contains("x".repeat(200) + "… (7000 chars)")
                .doesNotContain("x".repeat(201));
    }
}
