package io.github.pgiplisten.kotlin

import io.github.pgiplisten.PgListener
import io.github.pgiplisten.autoconfigure.PgListenAutoConfiguration
import io.github.pgiplisten.autoconfigure.PgListenConfigurationException
import org.assertj.core.api.Assertions.assertThat
import org.junit.jupiter.api.Test
import org.springframework.boot.autoconfigure.AutoConfigurations
import org.springframework.boot.test.context.runner.ApplicationContextRunner

class SuspendingListener {

    @PgListener("kotlin-suspend")
    suspend fun on(payload: String) {
        println(payload)
    }
}

/** A suspend listener fails start-up naming the method and what to do, before anything connects. */
class SuspendListenerTests {

    @Test
    fun aSuspendListenerFailsStartUpNamingTheMethodAndTheWayOut() {
        ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(PgListenAutoConfiguration::class.java))
            .withPropertyValues("pg-ip-listen.url=jdbc:postgresql://localhost:1/none")
            .withBean("suspendingListener", SuspendingListener::class.java)
            .run { context ->
                assertThat(context).hasFailed()
                var cause: Throwable? = context.startupFailure
                while (cause != null && cause !is PgListenConfigurationException) {
                    cause = cause.cause
                }
                assertThat(cause).isInstanceOf(PgListenConfigurationException::class.java)
                assertThat(cause!!.message)
                    .contains("suspendingListener#on")
                    .contains("Kotlin suspend function")
                (cause as PgListenConfigurationException).action().let {
                    assertThat(it).contains("runBlocking")
                }
            }
    }
}
