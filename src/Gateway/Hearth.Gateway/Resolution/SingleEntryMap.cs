using System.Diagnostics.CodeAnalysis;

namespace Hearth.Gateway.Resolution;

/// <summary>A map of one key, in place of a hash table: most answers name one patient (the common single read).</summary>
internal sealed class SingleEntryMap<TValue>(string key, TValue value) : IReadOnlyDictionary<string, TValue>
{
    public string Key { get; } = key;

    public TValue Value { get; } = value;

    public int Count => 1;

    public IEnumerable<string> Keys => [Key];

    public IEnumerable<TValue> Values => [Value];

    public TValue this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException();

    public bool ContainsKey(string key) => string.Equals(key, Key, StringComparison.Ordinal);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out TValue value)
    {
        var found = ContainsKey(key);
        value = found ? Value : default;
        return found;
    }

    public IEnumerator<KeyValuePair<string, TValue>> GetEnumerator()
    {
        yield return KeyValuePair.Create(Key, Value);
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
