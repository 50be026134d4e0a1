package io.github.pgiplisten.kotlin

import io.github.pgiplisten.PgListener
import io.github.pgiplisten.PgListenerExecutionFailedException
import io.github.pgiplisten.PgListenerErrorHandler
import io.github.pgiplisten.PgPublisher
import io.github.pgiplisten.core.PgNotification
import io.github.pgiplisten.test.PgListenTestDatabase
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import org.assertj.core.api.Assertions.assertThat
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.springframework.beans.factory.annotation.Autowired
import org.springframework.boot.test.context.SpringBootTest
import org.springframework.boot.test.context.TestConfiguration
import org.springframework.context.annotation.Bean

/** A data class without a default constructor: Jackson's Kotlin module reads it, nullable and default values too. */
data class OrderCreated(val id: Long, val item: String, val note: String? = null, val quantity: Int = 1)

/** A listener as a Kotlin developer writes it. */
class OrderListener {

    val orders = LinkedBlockingQueue<OrderCreated>()
    val texts = LinkedBlockingQueue<String>()

    @PgListener("kotlin-orders")
    fun onOrder(order: OrderCreated) {
        orders.add(order)
    }

    @PgListener("kotlin-texts", errorHandler = "kotlinErrors")
    fun onText(text: String) {
        require(!text.startsWith("boom")) { "cannot take $text" }
        texts.add(text)
    }
}

class Failures {
    val failures = LinkedBlockingQueue<PgListenerExecutionFailedException>()
}

@SpringBootTest
@PgListenTestDatabase
class KotlinListenerTests {

    /** Open: Spring finds only non-final nested configuration classes, and Kotlin's classes are final. */
    @TestConfiguration(proxyBeanMethods = false)
    open class Listeners {

        @Bean
        fun orderListener() = OrderListener()

        @Bean
        fun failures() = Failures()

        @Bean
        fun kotlinErrors(failures: Failures) =
            PgListenerErrorHandler { _: PgNotification, exception: PgListenerExecutionFailedException ->
                failures.failures.add(exception)
            }
    }

    @Autowired
    lateinit var publisher: PgPublisher

    @Autowired
    lateinit var listener: OrderListener

    @Autowired
    lateinit var failures: Failures

    @BeforeEach
    fun clear() {
        listener.orders.clear()
        listener.texts.clear()
        failures.failures.clear()
    }

    @Test
    fun aDataClassPublishedAsJsonReachesAKotlinListener() {
        publisher.notify("kotlin-orders", OrderCreated(42, "book", note = "gift"))
        assertThat(listener.orders.poll(10, TimeUnit.SECONDS)).isEqualTo(OrderCreated(42, "book", "gift", 1))
    }

    @Test
    fun jsonFromSqlWithoutTheOptionalPropertiesGetsKotlinsDefaults() {
        publisher.notify("kotlin-orders", """{"id": 7, "item": "pen"}""")
        assertThat(listener.orders.poll(10, TimeUnit.SECONDS)).isEqualTo(OrderCreated(7, "pen", null, 1))
    }

    @Test
    fun jsonWithoutARequiredPropertyIsNotHandledAndTheNextOneIs() {
        publisher.notify("kotlin-orders", """{"id": 8}""")
        publisher.notify("kotlin-orders", """{"id": 9, "item": "ink"}""")
        assertThat(listener.orders.poll(10, TimeUnit.SECONDS)).isEqualTo(OrderCreated(9, "ink"))
        assertThat(listener.orders).isEmpty()
    }

    @Test
    fun whatAKotlinListenerThrowsGoesToItsNamedErrorHandlerAndTheNextOneIsHandled() {
        publisher.notify("kotlin-texts", "boom")
        publisher.notify("kotlin-texts", "fine")
        assertThat(listener.texts.poll(10, TimeUnit.SECONDS)).isEqualTo("fine")
        val failure = failures.failures.poll(10, TimeUnit.SECONDS)
        assertThat(failure).isNotNull()
        assertThat(failure!!.listener()).isEqualTo("orderListener#onText")
        assertThat(failure.cause).hasMessage("cannot take boom")
    }
}
