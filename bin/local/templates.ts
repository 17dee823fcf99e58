/**
 * Example templates for the local stack: a layout (`brand`), a `receipt`, a `newsletter` (for
 * broadcasts) and a `password-reset`,
 * created and published through the API itself, as an editor would.
 */

interface Seed {
  readonly slug: string;
  readonly body: Record<string, unknown>;
}

export const SEED_TEMPLATES: readonly Seed[] = [
  {
    slug: 'brand',
    body: {
      slug: 'brand',
      kind: 'layout',
      name: 'Brand layout',
      html: [
        '<!doctype html><html><body style="font-family:sans-serif">',
        '<header><strong>{{ company }}</strong></header>',
        '{% slot banner %}{% endslot %}',
        '<main>{% content %}</main>',
        '<footer style="color:#888">{{ company }} · you get this email because you have an account.</footer>',
        '</body></html>',
      ].join('\n'),
      text: '{% content %}\n\n-- \n{{ company }}',
      variables: [{ name: 'company', type: 'string', default: 'Acme' }],
    },
  },
  {
    slug: 'receipt',
    body: {
      slug: 'receipt',
      name: 'Order receipt',
      layout: 'brand',
      subject: 'Your receipt for order {{ orderId }}',
      html: [
        '<p>Hi {{ name }},</p>',
        '<p>Thanks for your order {{ orderId }}.</p>',
        '<table>{% for item in items %}<tr><td>{{ item.name }}</td><td>{{ item.price }} {{ currency }}</td></tr>{% endfor %}</table>',
        '<p><strong>Total: {{ total }} {{ currency }}</strong></p>',
      ].join('\n'),
      text: 'Hi {{ name }},\n\nThanks for your order {{ orderId }}.\n{% for item in items %}\n- {{ item.name }}: {{ item.price }} {{ currency }}{% endfor %}\n\nTotal: {{ total }} {{ currency }}',
      variables: [
        { name: 'name', type: 'string' },
        { name: 'orderId', type: 'string' },
        { name: 'items', type: 'array', description: 'each {"name": …, "price": …}' },
        { name: 'total', type: 'number' },
        { name: 'currency', type: 'string', default: 'USD' },
      ],
    },
  },
  {
    // For broadcasts: a contact's first_name fills it (or its default), email is the contact's address.
    slug: 'newsletter',
    body: {
      slug: 'newsletter',
      name: 'Newsletter',
      layout: 'brand',
      subject: 'News from {{ company }}',
      html: '<p>Hi {{ first_name }},</p>\n<p>Here is what is new this month.</p>\n<p style="color:#888">Sent to {{ email }}.</p>',
      text: 'Hi {{ first_name }},\n\nHere is what is new this month.\n\nSent to {{ email }}.',
      variables: [
        { name: 'first_name', type: 'string', default: 'there' },
        { name: 'email', type: 'string' },
      ],
    },
  },
  {
    slug: 'password-reset',
    body: {
      slug: 'password-reset',
      name: 'Password reset',
      layout: 'brand',
      subject: 'Reset your password',
      html: [
        '<p>Hi {{ name }},</p>',
        '<p><a href="{{ resetUrl }}">Choose a new password</a>. The link works for {{ expiresInMinutes }} minutes.</p>',
        '<p>{% slot notice %}If you did not ask for this, you can ignore this email.{% endslot %}</p>',
      ].join('\n'),
      text: 'Hi {{ name }},\n\nChoose a new password: {{ resetUrl }}\nThe link works for {{ expiresInMinutes }} minutes.\n\n{% slot notice %}If you did not ask for this, you can ignore this email.{% endslot %}',
      variables: [
        { name: 'name', type: 'string' },
        { name: 'resetUrl', type: 'string' },
        { name: 'expiresInMinutes', type: 'number', default: 30 },
      ],
    },
  },
];

/** Creates and publishes each example template (its first version becomes active). */
export async function seedTemplates(apiUrl: string, apiKey: string): Promise<void> {
  const call = async (path: string, body?: unknown) => {
    const res = await fetch(`${apiUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`seeding templates: POST ${path} answered ${res.status}: ${await res.text()}`);
  };
  for (const seed of SEED_TEMPLATES) {
    await call('/v1/templates', seed.body);
    await call(`/v1/templates/${seed.slug}/publish`);
  }
}
