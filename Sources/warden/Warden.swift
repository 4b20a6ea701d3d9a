@main
struct Warden {
    static func main() {}
}
