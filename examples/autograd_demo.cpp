#include <iostream>
#include "nabla/nabla.h"
int main() {
  auto x = nabla::randn({3, 4});
  std::cout << x.shape() << "\n";
}
