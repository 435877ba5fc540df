// Stripe Elements on the checkout page (templates/payments/_stripe.html): the card goes from the browser to Stripe,
// which confirms the PaymentIntent and sends the guest back to the return URL.
(() => {
  const form = document.getElementById('stripe-form');
  if (!form) return;
  const button = document.getElementById('stripe-pay');
  const error = document.getElementById('stripe-error');
  const stripe = Stripe(form.dataset.publishableKey);
  const elements = stripe.elements({clientSecret: form.dataset.clientSecret});
  elements.create('payment').mount('#payment-element');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    button.disabled = true;
    // On success Stripe redirects to return_url; we only get here when the card is refused or incomplete.
    const result = await stripe.confirmPayment({elements, confirmParams: {return_url: form.dataset.returnUrl}});
    error.textContent = result.error.message;
    error.hidden = false;
    button.disabled = false;
  });
})();
