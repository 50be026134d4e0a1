package io.github.pgiplisten.autoconfigure;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.pgiplisten.PgListenerErrorHandler;
import io.github.pgiplisten.PgListenerExecutionFailedException;
import io.github.pgiplisten.core.PgNotification;

/** The default error handler: logs the listener, channel, a payload preview and the cause, then carries on. */
class LoggingPgListenerErrorHandler implements PgListenerErrorHandler {

    private static final Logger log = LoggerFactory.getLogger(LoggingPgListenerErrorHandler.class);

    @Override
    public void handleError(PgNotification notification, PgListenerExecutionFailedException exception) {
        log.error(exception.getMessage(), exception.getCause());
    }
}
